using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchboard.Tests.Infrastructure;

/// <summary>A protocol client on a real <see cref="ClientWebSocket"/>: records every frame it receives.</summary>
public sealed class SocketClient : IAsyncDisposable
{
    /// <summary>The key in a failed connect's <see cref="Exception.Data"/> holding the HTTP status of the refused upgrade.</summary>
    public const string HttpStatusKey = "HttpStatus";

    private readonly ClientWebSocket _socket;
    private readonly ConcurrentQueue<JsonElement> _frames = new();
    private readonly Task _receiving;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly HttpMessageInvoker? _invoker;

    private SocketClient(ClientWebSocket socket, HttpMessageInvoker? invoker = null)
    {
        _socket = socket;
        _invoker = invoker;
        _receiving = ReceiveLoopAsync();
    }

    public IReadOnlyCollection<JsonElement> Frames => _frames;

    /// <summary>The close status the server sent, once the socket is closed.</summary>
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public WebSocketState State => _socket.State;

    public Task Closed => _receiving;

    public JsonElement Welcome { get; private set; }

    /// <summary>The HTTP status that opened the socket: 101 for an HTTP/1.1 upgrade, 200 for an HTTP/2 extended CONNECT.</summary>
    public int UpgradeStatus { get; private init; }

    /// <param name="certificateValidation">For wss to a server whose certificate the machine does not trust (the gateway's self-signed one in tests).</param>
    /// <param name="http2">Open the socket with an HTTP/2 extended CONNECT instead of an HTTP/1.1 upgrade (wss only).</param>
    public static async Task<SocketClient> ConnectAsync(Uri baseAddress, string token, bool useQuery = false, string? origin = null, RemoteCertificateValidationCallback? certificateValidation = null, bool http2 = false, string? forwardedFor = null)
    {
        certificateValidation ??= TestTargets.CertificateValidation;
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        HttpMessageInvoker? invoker = null;
        if (http2)
        {
            socket.Options.HttpVersion = System.Net.HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            invoker = new HttpMessageInvoker(new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = certificateValidation } });
        }
        else
        {
            socket.Options.RemoteCertificateValidationCallback = certificateValidation;
        }

        var uri = new UriBuilder(baseAddress) { Scheme = baseAddress.Scheme == "https" ? "wss" : "ws", Path = "/ws" };
        if (useQuery)
        {
            uri.Query = "access_token=" + Uri.EscapeDataString(token);
        }
        else
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        if (forwardedFor is not null)
        {
            socket.Options.SetRequestHeader("X-Forwarded-For", forwardedFor);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(uri.Uri, invoker, timeout.Token);
        }
        catch (WebSocketException exception)
        {
            // The status of a refused upgrade, for tests that tell refusals apart.
            exception.Data[HttpStatusKey] = (int)socket.HttpStatusCode;
            socket.Dispose();
            invoker?.Dispose();
            throw;
        }

        var client = new SocketClient(socket, invoker) { UpgradeStatus = (int)socket.HttpStatusCode };
        client.Welcome = await client.WaitForAsync(f => f.Type() == "welcome", "the welcome frame");
        return client;
    }

    /// <summary>Tries to connect and returns the HTTP status of a refused upgrade (or 101).</summary>
    public static async Task<int> TryConnectStatusAsync(Uri baseAddress, string? token, string? origin = null, bool useQuery = false, RemoteCertificateValidationCallback? certificateValidation = null)
    {
        certificateValidation ??= TestTargets.CertificateValidation;
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.RemoteCertificateValidationCallback = certificateValidation;
        var uri = new UriBuilder(baseAddress) { Scheme = baseAddress.Scheme == "https" ? "wss" : "ws", Path = "/ws" };
        if (token is not null && useQuery)
        {
            uri.Query = "access_token=" + Uri.EscapeDataString(token);
        }
        else if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        try
        {
            await socket.ConnectAsync(uri.Uri, CancellationToken.None);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return (int)socket.HttpStatusCode;
        }
        catch (WebSocketException)
        {
            return (int)socket.HttpStatusCode;
        }
    }

    public Task SendAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public async Task SendTextAsync(string text) => await SendRawAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendRawAsync(byte[] bytes, WebSocketMessageType type)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends one text message as several WebSocket frames of at most <paramref name="fragment"/> bytes.</summary>
    public async Task SendFragmentsAsync(byte[] bytes, int fragment)
    {
        await _sendLock.WaitAsync();
        try
        {
            for (var offset = 0; offset < bytes.Length; offset += fragment)
            {
                var count = Math.Min(fragment, bytes.Length - offset);
                await _socket.SendAsync(bytes.AsMemory(offset, count), WebSocketMessageType.Text, endOfMessage: offset + count == bytes.Length, CancellationToken.None);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends one text message as the given WebSocket frames, in order (a frame may be empty).</summary>
    public async Task SendFramesAsync(IReadOnlyList<byte[]> frames)
    {
        await _sendLock.WaitAsync();
        try
        {
            for (var i = 0; i < frames.Count; i++)
            {
                await _socket.SendAsync(frames[i], WebSocketMessageType.Text, endOfMessage: i == frames.Count - 1, CancellationToken.None);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends a request and waits for the frame that answers its id (ack, pong or error).</summary>
    public async Task<JsonElement> RequestAsync(object frame, TimeSpan? timeout = null)
    {
        var id = JsonSerializer.SerializeToElement(frame).GetProperty("id").GetString();

        // Only frames that arrive after this request count: a retried id must not find its earlier reply.
        var skip = _frames.Count;
        await SendAsync(frame);
        JsonElement found = default;
        await Wait.UntilAsync(() =>
        {
            foreach (var reply in _frames.Skip(skip))
            {
                if (reply.Type() is "ack" or "pong" or "error" && reply.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String && i.GetString() == id)
                {
                    found = reply;
                    return true;
                }
            }

            return false;
        }, $"the reply to {id}", timeout);
        return found;
    }

    /// <summary>
    /// A ping answered by its pong: proves the socket is open and, since one socket's frames are handled
    /// in order, that everything sent before it was handled.
    /// </summary>
    public async Task PingAsync()
    {
        var reply = await RequestAsync(new { type = "ping", id = "ping-" + Guid.NewGuid().ToString("N") });
        Assert.Equal("pong", reply.Type());
    }

    public Task<JsonElement> SendMessageAsync(string to, object body, string? id = null) =>
        RequestAsync(new { type = "send", id = id ?? Guid.NewGuid().ToString(), to, body });

    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> predicate, string what, TimeSpan? timeout = null)
    {
        JsonElement found = default;
        await Wait.UntilAsync(() =>
        {
            // Read before looking: once the socket is closed, no frame can come any more.
            var closed = _receiving.IsCompleted;
            foreach (var frame in _frames)
            {
                if (predicate(frame))
                {
                    found = frame;
                    return true;
                }
            }

            return closed
                ? throw new InvalidOperationException($"The socket closed ({(int?)_socket.CloseStatus} {_socket.CloseStatusDescription}) before {what}.")
                : false;
        }, what, timeout);
        return found;
    }

    /// <summary>The message frames received for a conversation, by seq.</summary>
    public IReadOnlyList<JsonElement> Messages(string conversation) =>
        _frames.Where(f => f.Type() == "message" && f.GetProperty("conversation").GetString() == conversation)
            .OrderBy(f => f.GetProperty("seq").GetInt64())
            .ToList();

    public Task<JsonElement> WaitForMessageAsync(string conversation, long seq, TimeSpan? timeout = null) =>
        WaitForAsync(f => f.Type() == "message" && f.GetProperty("conversation").GetString() == conversation && f.GetProperty("seq").GetInt64() == seq,
            $"message {conversation}#{seq}", timeout);

    public async Task<WebSocketCloseStatus?> WaitForCloseAsync(TimeSpan? timeout = null)
    {
        await _receiving.WaitAsync(timeout ?? Wait.DefaultTimeout);
        return _socket.CloseStatus;
    }

    /// <summary>Drops the connection without a close handshake, as a client whose network vanished.</summary>
    public void Abort() => _socket.Abort();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }

            await _receiving.WaitAsync(TimeSpan.FromSeconds(3));
        }
        catch (Exception)
        {
            // The test is over; whatever state the socket is in, it goes.
        }
        finally
        {
            _stop.Cancel();
            _socket.Abort();
            _socket.Dispose();
            _invoker?.Dispose();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (true)
            {
                var count = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(count).ToArraySegment(), _stop.Token);
                    count += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }

                    return;
                }

                using var document = JsonDocument.Parse(buffer.AsMemory(0, count));
                _frames.Enqueue(document.RootElement.Clone());
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested || _socket.State != WebSocketState.Open)
        {
            // Aborted or closed under us: the test reads CloseStatus and State.
        }
    }
}

public static class FrameExtensions
{
    public static string? Type(this JsonElement frame) =>
        frame.TryGetProperty("type", out var type) ? type.GetString() : null;

    public static string? Str(this JsonElement frame, string name) =>
        frame.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static ArraySegment<byte> ToArraySegment(this Memory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(memory, out var segment) ? segment : throw new InvalidOperationException();

    public static JsonNode? Node(this JsonElement element) => JsonNode.Parse(element.GetRawText());
}
