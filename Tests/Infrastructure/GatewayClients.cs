using System.Net.WebSockets;

namespace Switchboard.Tests.Infrastructure;

/// <summary>Sockets through the gateway, landed where a test needs them.</summary>
public static class GatewayClients
{
    /// <summary>
    /// Connects through the gateway until the socket lands on <paramref name="node"/> (bounded): the gateway
    /// balances by load, so a test cannot pick the silo, only keep trying. Sockets that landed elsewhere are closed.
    /// </summary>
    public static async Task<SocketClient> ConnectToNodeAsync(this GatewayFactory gateway, string token, string node, int attempts = 20, bool http2 = false)
    {
        var elsewhere = new List<SocketClient>();
        try
        {
            for (var attempt = 0; attempt < attempts; attempt++)
            {
                var socket = await gateway.ConnectAsync(token, http2: http2);
                if (socket.Welcome.Str("node") == node)
                {
                    return socket;
                }

                // Kept open until the end, so the balancer sees that silo as the busier one.
                elsewhere.Add(socket);
            }

            throw new InvalidOperationException($"No socket landed on {node} in {attempts} attempts (got {string.Join(", ", elsewhere.Select(s => s.Welcome.Str("node")))}).");
        }
        finally
        {
            foreach (var socket in elsewhere)
            {
                await socket.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Connects through the gateway, retrying refused upgrades until <paramref name="timeout"/>; returns the
    /// refusals by HTTP status (502: forwarded to a dead silo; 503: a silo could not reach a grain yet).
    /// </summary>
    public static async Task<(SocketClient Socket, IReadOnlyDictionary<int, int> Refusals)> ConnectRetryingAsync(this GatewayFactory gateway, string token, TimeSpan timeout)
    {
        SocketClient? socket = null;
        var refusals = new SortedDictionary<int, int>();
        await Wait.UntilAsync(async () =>
        {
            try
            {
                socket = await gateway.ConnectAsync(token);
                return true;
            }
            catch (WebSocketException exception)
            {
                var status = exception.Data[SocketClient.HttpStatusKey] as int? ?? 0;
                refusals[status] = refusals.GetValueOrDefault(status) + 1;
                return false;
            }
        }, "a socket through the gateway is served", timeout);
        return (socket!, refusals);
    }
}
