using System.Buffers;
using System.Net.WebSockets;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Diagnostics;

namespace Switchboard.Silo.WebSockets;

/// <summary>
/// One client socket: one receive loop that handles requests in order, and a bounded <see cref="OutboundQueue"/>
/// whose pump runs only while frames wait, so that a slow client never blocks a grain or another client. All closing
/// goes through <see cref="Close"/>: the queue sends the close frame after the queued frames, the receive loop waits
/// for the client's.
/// </summary>
public sealed class WebSocketSession : IClientConnection, IOutboundWriter
{
    private const int InitialReceiveBytes = 4096;

    private readonly OutboundQueue _outbound;
    private readonly SwitchboardMetrics _metrics;
    private readonly ILogger _logger;
    private readonly SocketOptions _options;
    private readonly CancellationTokenSource _aborted = new();
    private WebSocket? _socket;
    private int _closing;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string _closeReason = string.Empty;

    // One reference, swapped whole: a revocation on another thread reads the issue time with the caller it came with.
    private HeldToken _token;

    public WebSocketSession(ConnectionId id, Caller caller, DateTimeOffset? tokenIssuedAt, SocketOptions options, SwitchboardMetrics metrics, ILogger logger)
    {
        Id = id;
        _token = new HeldToken(caller, tokenIssuedAt);
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _outbound = new OutboundQueue(options.OutboundQueueCapacity, options.OutboundQueueMaxBytes, this);
    }

    public ConnectionId Id { get; }

    /// <summary>The user and role of the token the socket holds now (an <c>auth</c> frame replaces it).</summary>
    public Caller Caller => Volatile.Read(ref _token).Caller;

    public UserId User => Caller.User;

    public DateTimeOffset? TokenIssuedAt => Volatile.Read(ref _token).IssuedAt;

    /// <summary>Takes a refreshed token's role and issue time (same user: checked by the caller).</summary>
    public void Refresh(Caller caller, DateTimeOffset? issuedAt) => Volatile.Write(ref _token, new HeldToken(caller, issuedAt));

    public void Disconnect(string reason) => Close((WebSocketCloseStatus)CloseCodes.Disconnected, reason);

    /// <summary>True once a close has been started, by either side.</summary>
    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    public bool TrySend(ReadOnlyMemory<byte> frame) => _outbound.TryEnqueue(frame) || Overflowed();

    /// <summary>
    /// Queues a frame of a <c>resume</c> replay, waiting while replayed frames take half the queue: a replay
    /// goes at the pace the client reads, leaves room for live frames, and never makes a client that reads
    /// look too slow. False when the socket is closing.
    /// </summary>
    public async ValueTask<bool> SendReplayAsync(ReadOnlyMemory<byte> frame)
    {
        if (IsClosing)
        {
            return false;
        }

        try
        {
            if (await _outbound.EnqueueReplayAsync(frame, _aborted.Token))
            {
                return true;
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }

        return Overflowed();
    }

    /// <summary>
    /// Queues a reply to the client's own request, waiting for room: a large <c>resume</c> slows the
    /// client's own receive loop instead of overflowing its queue. False once the socket is closing.
    /// </summary>
    public async ValueTask<bool> SendReplyAsync(ReadOnlyMemory<byte> frame)
    {
        try
        {
            return await _outbound.EnqueueAsync(frame, _aborted.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Starts closing with <paramref name="status"/>: queued frames are sent first unless <paramref name="discardQueued"/>.</summary>
    public void Close(WebSocketCloseStatus status, string reason, bool discardQueued = false)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        _closeStatus = status;
        _closeReason = reason;
        _outbound.Complete(discardQueued);

        // A client that never answers the close frame does not keep the socket (or a drain) waiting.
        _aborted.CancelAfter(_options.CloseTimeout + TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Runs both loops until the socket is closed; <paramref name="handle"/> processes each text message in order.</summary>
    public async Task RunAsync(WebSocket socket, Func<WebSocketSession, ReadOnlyMemory<byte>, ValueTask> handle, CancellationToken cancellationToken)
    {
        // The request's abort ends the session too: one token for both loops, without a linked source per socket.
        var requestAborted = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _aborted);
        _socket = socket;
        _outbound.Start();

        try
        {
            await ReceiveLoopAsync(socket, handle, _aborted.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            ConnectionLog.SocketError(_logger, Id.Value, exception);
        }
        catch (Exception exception)
        {
            ConnectionLog.SocketError(_logger, Id.Value, exception);
            Close(WebSocketCloseStatus.InternalServerError, "server error");
        }
        finally
        {
            Close(_closeStatus, _closeReason);

            // Once closing, no new pump starts: the last one sends the close frame (or has failed).
            await _outbound.Completion;

            // The receive loop is gone (an error ended it): wait, bounded by the close timer, for the client's close frame.
            if (socket.State == WebSocketState.CloseSent)
            {
                try
                {
                    await DrainUntilClosedAsync(socket, new byte[1024], _aborted.Token);
                }
                catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
                {
                    ConnectionLog.SocketError(_logger, Id.Value, exception);
                }
            }

            if (socket.State != WebSocketState.Closed)
            {
                socket.Abort();
            }

            ConnectionLog.Closed(_logger, Id.Value, User.Value, (int)(socket.CloseStatus ?? _closeStatus), _closeReason);

            // Unregistered first (Dispose waits for a running callback), so an abort cannot cancel a disposed source.
            requestAborted.Dispose();
            _aborted.Dispose();
        }
    }

    private async Task ReceiveLoopAsync(WebSocket socket, Func<WebSocketSession, ReadOnlyMemory<byte>, ValueTask> handle, CancellationToken cancellationToken)
    {
        byte[]? buffer = null;

        // Each frame's grain calls start traces of their own, sampled one by one: under the upgrade's request span
        // (which lasts as long as the socket) a sampled socket would trace every message it ever sent, in one trace.
        System.Diagnostics.Activity.Current = null;
        try
        {
            while (true)
            {
                // Between messages the socket waits with a zero-byte read, so an idle connection holds no receive
                // buffer (a pooled buffer per idle socket was most of what an idle connection cost). The wait
                // reads the next frame's header; the buffer is rented only once a message has begun.
                var result = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
                buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBytes);
                var count = 0;
                while (true)
                {
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        // The client closed (or answered our close): echo it if we have not closed yet.
                        Close(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, socket.CloseStatusDescription ?? string.Empty);
                        return;
                    }

                    if (result.MessageType == WebSocketMessageType.Binary)
                    {
                        Close(WebSocketCloseStatus.InvalidMessageType, "binary frames are not supported", discardQueued: false);
                        await DrainUntilClosedAsync(socket, buffer, cancellationToken);
                        return;
                    }

                    count += result.Count;
                    if (count > _options.MaxMessageBytes)
                    {
                        Close(WebSocketCloseStatus.MessageTooBig, $"message larger than {_options.MaxMessageBytes} bytes");
                        await DrainUntilClosedAsync(socket, buffer, cancellationToken);
                        return;
                    }

                    if (result.EndOfMessage)
                    {
                        break;
                    }

                    if (count == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxMessageBytes + 1));
                        buffer.AsSpan(0, count).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
                }

                if (IsClosing)
                {
                    await DrainUntilClosedAsync(socket, buffer, cancellationToken);
                    return;
                }

                _metrics.FrameReceived();
                await handle(this, buffer.AsMemory(0, count));
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>After we decided to close: read and drop until the client's close frame (or the abort timer).</summary>
    private static async Task DrainUntilClosedAsync(WebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
        }
    }

    /// <summary>
    /// A live frame found the queue full: a client that reads this slowly falls ever further behind, so it is
    /// closed to reconnect and resume (its queued frames dropped: resume repairs them).
    /// </summary>
    private bool Overflowed()
    {
        if (!IsClosing)
        {
            _metrics.QueueOverflow();
            ConnectionLog.TooSlow(_logger, Id.Value, User.Value);
            Close((WebSocketCloseStatus)CloseCodes.TooSlow, "too slow: reconnect and resume", discardQueued: true);
        }

        return false;
    }

    ValueTask IOutboundWriter.SendAsync(ReadOnlyMemory<byte> frame) =>
        _socket!.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _aborted.Token);

    void IOutboundWriter.Sent() => _metrics.FrameSent();

    ValueTask IOutboundWriter.CloseAsync() =>
        _socket!.State is WebSocketState.Open or WebSocketState.CloseReceived
            ? new ValueTask(_socket.CloseOutputAsync(_closeStatus, _closeReason, _aborted.Token))
            : default;

    void IOutboundWriter.Failed(Exception exception)
    {
        ConnectionLog.SocketError(_logger, Id.Value, exception);
        _aborted.Cancel();
    }
}

/// <summary>What a socket knows of the token it holds.</summary>
internal sealed record HeldToken(Caller Caller, DateTimeOffset? IssuedAt);

/// <summary>The application close codes of docs/protocol.md.</summary>
public static class CloseCodes
{
    public const int NodeShuttingDown = 1012;
    public const int TokenExpired = 4001;
    public const int Disconnected = 4003;
    public const int TooSlow = 4008;
    public const int RateLimited = 4029;
}
