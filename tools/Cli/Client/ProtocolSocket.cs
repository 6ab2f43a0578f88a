using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Switchboard.Cli.Client;

/// <summary>
/// One socket to <c>/ws</c>: opened with the token in the Authorization header (never the query string, which
/// servers and proxies log), read one whole text message at a time, closed politely.
/// </summary>
public sealed class ProtocolSocket : IAsyncDisposable
{
    /// <summary>A server frame is a message the server wrote (a body of at most 64 KiB plus its envelope); more is not the protocol.</summary>
    private const int MaxFrameBytes = 1024 * 1024;

    private readonly ClientWebSocket _socket;

    private ProtocolSocket(ClientWebSocket socket) => _socket = socket;

    /// <summary>The first frame of every socket: who the server says this is, which node holds it, and the log's epoch.</summary>
    public ServerFrame Welcome { get; private set; } = null!;

    /// <summary>Why the server closed the socket, once <see cref="ReceiveAsync"/> has returned null.</summary>
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseDescription => _socket.CloseStatusDescription;

    public static async Task<ProtocolSocket> ConnectAsync(Connection connection, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {connection.Token}");
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
        if (connection.CertificateValidation is { } validation)
        {
            socket.Options.RemoteCertificateValidationCallback = validation;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await socket.ConnectAsync(connection.Server.Socket, timeout.Token);
        }
        catch (Exception exception) when (exception is WebSocketException or HttpRequestException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            throw status is 0 or 101
                ? new CliError(ExitCodes.ConnectionCode, $"Cannot open {connection.Server.Socket}: {RestClient.Describe(exception)}", exception)
                : new CliError(ExitCodes.CodeForStatus(status), $"The server refused the socket with HTTP {status}.", exception);
        }

        var opened = new ProtocolSocket(socket);
        ServerFrame? welcome;
        try
        {
            welcome = await opened.ReceiveAsync(cancellationToken);
        }
        catch (Exception)
        {
            socket.Dispose();
            throw;
        }

        if (welcome is null || welcome.Type != "welcome")
        {
            var why = welcome is null ? $"closed ({(int?)socket.CloseStatus} {socket.CloseStatusDescription})" : $"sent '{welcome.Type}'";
            await opened.DisposeAsync();
            throw new CliError(ExitCodes.ConnectionCode, $"The server {why} instead of welcome.");
        }

        opened.Welcome = welcome;
        return opened;
    }

    public Task SendAsync<T>(T frame, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        _socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame, type), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>The next frame, or null when the socket closed (see <see cref="CloseStatus"/>); throws when the connection broke.</summary>
    public async Task<ServerFrame?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            buffer.Advance(result.Count);
            if (buffer.WrittenCount > MaxFrameBytes)
            {
                throw new CliError(ExitCodes.ConnectionCode, $"The server sent a frame over {MaxFrameBytes} bytes.");
            }

            if (result.EndOfMessage)
            {
                return ServerFrame.Parse(Encoding.UTF8.GetString(buffer.WrittenSpan));
            }
        }
    }

    /// <summary>Sends a request and waits for the reply with its id; messages that arrive meanwhile are skipped (a one-shot command did not ask for them).</summary>
    public async Task<ServerFrame> RequestAsync<T>(string id, T frame, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        await SendAsync(frame, type, cancellationToken);
        while (await ReceiveAsync(cancellationToken) is { } reply)
        {
            if (reply.Id == id && reply.Type is "ack" or "error" or "pong")
            {
                return reply;
            }
        }

        throw new CliError(ExitCodes.ConnectionCode, $"The server closed the socket ({(int?)CloseStatus} {CloseDescription}) before it answered.");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // The server went first or is gone: there is nothing left to close politely.
        }
        finally
        {
            _socket.Dispose();
        }
    }
}
