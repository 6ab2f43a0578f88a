using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// A client that does not read until told to: its TCP receive window is tiny, so the server's frames back
/// up into the server's outbound queue. Then <see cref="ReadUntilClosedAsync"/> drains what arrived.
/// </summary>
public sealed class StalledSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly HttpMessageInvoker _invoker;

    private StalledSocket(ClientWebSocket socket, HttpMessageInvoker invoker)
    {
        _socket = socket;
        _invoker = invoker;
    }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static async Task<StalledSocket> ConnectAsync(Uri baseAddress, string token)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                // Set before connecting, so the window the server sees stays small.
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var invoker = new HttpMessageInvoker(handler);
        var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        client.Options.SetRequestHeader("Authorization", "Bearer " + token);
        var uri = new UriBuilder(baseAddress) { Scheme = "ws", Path = "/ws" }.Uri;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await client.ConnectAsync(uri, invoker, timeout.Token);
        return new StalledSocket(client, invoker);
    }

    /// <summary>Reads every frame until the server closes (or <paramref name="timeout"/>); returns the JSON frames read.</summary>
    public async Task<IReadOnlyList<JsonElement>> ReadUntilClosedAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var frames = new List<JsonElement>();
        var buffer = new byte[1 << 20];
        while (true)
        {
            var count = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer.AsMemory(count), deadline.Token);
                count += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return frames;
            }

            frames.Add(JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, count)).RootElement.Clone());
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
        }
        catch (Exception)
        {
            // The test is over; the socket goes whatever its state.
        }
        finally
        {
            _socket.Abort();
            _socket.Dispose();
            _invoker.Dispose();
        }
    }
}
