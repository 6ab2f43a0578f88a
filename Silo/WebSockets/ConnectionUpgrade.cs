using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Switchboard.Silo.Diagnostics;
using Switchboard.Silo.Hosting;

namespace Switchboard.Silo.WebSockets;

/// <summary>
/// Kestrel connection middleware that takes a <c>/ws</c> upgrade before HTTP sees the connection: it reads the
/// request head without consuming it, and when the head is a plain upgrade that will be accepted (valid token,
/// allowed Origin, node not draining, the user grain took the registration) it answers 101 itself and runs the
/// socket over the connection's own pipes. A socket accepted here keeps none of Kestrel's HTTP/1.1 connection,
/// request, header collections or pipeline state: about a quarter of what an idle socket held. Everything else,
/// refusals included, is handed to HTTP with every byte still unread, and answered there as before.
/// </summary>
public sealed class ConnectionUpgrade(WebSocketEndpoint endpoint, IOptions<SiloHostOptions> siloOptions)
{
    /// <summary>How long a new connection may take to send its request head before it is left to HTTP's own timeouts.</summary>
    public static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(10);

    private static readonly byte[] s_switching = Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ");
    private static readonly byte[] s_endOfHead = "\r\n\r\n"u8.ToArray();

    private readonly IPAddress[] _trustedProxies = [.. siloOptions.Value.TrustedProxies.Select(IPAddress.Parse)];

    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var input = connection.Transport.Input;
        UpgradeHead? head = null;
        long headLength = 0;
        using (var timeout = new CancellationTokenSource(HeadTimeout))
        {
            while (true)
            {
                ReadResult read;
                try
                {
                    read = await input.ReadAsync(timeout.Token);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    break;
                }

                var buffer = read.Buffer;
                var result = UpgradeHead.TryParse(buffer, out head, out headLength);
                if (result == UpgradeHead.Result.NeedMore && !read.IsCompleted && !read.IsCanceled)
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }

                // Nothing consumed, nothing marked examined: HTTP (or the code below) reads the same bytes again.
                input.AdvanceTo(buffer.Start);
                if (result != UpgradeHead.Result.Parsed)
                {
                    head = null;
                }

                break;
            }
        }

        // Only an upgrade that will be accepted is taken here; HTTP answers every refusal as it always has.
        var token = head is null ? null : await endpoint.Tokens.ValidateAsync(WebSocketEndpoint.ReadToken(head.Authorization, head.QueryToken));
        if (head is null || endpoint.Admit(token, isUpgrade: true, head.Origin ?? string.Empty, out var caller) is not null)
        {
            await next(connection);
            return;
        }

        WebSocketSession session;
        try
        {
            session = await endpoint.AttachAsync(caller!, token!);
        }
        catch (Exception exception)
        {
            // HTTP tries again and answers the refusal.
            ConnectionLog.UpgradeHandedToHttp(endpoint.Logger, exception.GetType().Name, exception.Message);
            await next(connection);
            return;
        }

        await endpoint.RunAsync(session, AcceptAsync(connection, head.Key, headLength), WebSocketEndpoint.ConnectionLayer, token!.Expires, RemoteAddress(connection, head), connection.ConnectionClosed);
    }

    private async Task<WebSocket> AcceptAsync(ConnectionContext connection, string key, long headLength)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;

        // The head was read before and left in the pipe: take it now (whatever follows it is the socket's).
        var read = await input.ReadAsync();
        input.AdvanceTo(read.Buffer.GetPosition(headLength));

        output.Write(s_switching);
        output.Write(Encoding.ASCII.GetBytes(UpgradeHead.AcceptKey(key)));
        output.Write(s_endOfHead);
        await output.FlushAsync();

        return WebSocket.CreateFromStream(new DuplexPipeStream(connection.Transport), new WebSocketCreationOptions
        {
            IsServer = true,
            KeepAliveInterval = endpoint.Options.KeepAliveInterval,
            KeepAliveTimeout = endpoint.Options.KeepAliveTimeout,
        });
    }

    /// <summary>The client's address: <c>X-Forwarded-For</c> (its last hop) counts only from a trusted proxy, as in the HTTP pipeline.</summary>
    private string RemoteAddress(ConnectionContext connection, UpgradeHead head)
    {
        var peer = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        if (peer is null)
        {
            return "unknown";
        }

        if (head.ForwardedFor is { } forwarded && Array.Exists(_trustedProxies, p => p.Equals(peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer)))
        {
            var last = forwarded[(forwarded.LastIndexOf(',') + 1)..].Trim();
            if (IPAddress.TryParse(last, out var client))
            {
                return client.ToString();
            }
        }

        return peer.ToString();
    }
}
