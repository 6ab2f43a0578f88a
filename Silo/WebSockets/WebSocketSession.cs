using System.Buffers;
using System.Net.WebSockets;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Diagnostics;

namespace Switchboard.Silo.WebSockets;

/// <summary>
/// One client socket: one receive loop that handles requests in order, and a bounded outbound queue drained
/// by a send pump, so that a slow client never blocks a grain or another client. The pump runs only while
/// frames are queued: an idle socket keeps no send loop waiting. All closing goes through <see cref="Close"/>:
/// the pump writes the close frame after the queued frames, the receive loop waits for the client's.
/// </summary>
public sealed class WebSocketSession : IClientConnection
{
    private const int InitialReceiveBytes = 4096;

    // The outbound queue and its pump, all under _queueLock. The oldest frame waits in _head, the rest in _queue:
    // a socket that gets one frame at a time (nearly all of them) never makes the queue's array.
    private readonly Lock _queueLock = new();
    private readonly Queue<OutboundFrame> _queue = new();
    private OutboundFrame _head;
    private bool _hasHead;
    private WebSocket? _socket;
    private bool _pumping;
    private bool _completed;
    private bool _sendsEnded;
    private TaskCompletionSource? _room;
    private TaskCompletionSource? _sendsEndedSignal;

    private SemaphoreSlim? _replaySlots;
    private readonly SocketOptions _options;
    private readonly SwitchboardMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _aborted = new();
    private int _closing;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string _closeReason = string.Empty;
    private bool _discardQueued;

    public WebSocketSession(ConnectionId id, Caller caller, SocketOptions options, SwitchboardMetrics metrics, ILogger logger)
    {
        Id = id;
        Caller = caller;
        _options = options;
        _metrics = metrics;
        _logger = logger;
    }

    public ConnectionId Id { get; }

    public Caller Caller { get; }

    public UserId User => Caller.User;

    /// <summary>True once a close has been started, by either side.</summary>
    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    public bool TrySend(ReadOnlyMemory<byte> frame) => TryQueue(new OutboundFrame(frame, Replay: false));

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
            await ReplaySlots.WaitAsync(_aborted.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }

        if (TryQueue(new OutboundFrame(frame, Replay: true)))
        {
            return true;
        }

        ReplaySlots.Release();
        return false;
    }

    /// <summary>Made on the first <c>resume</c>: most sockets never replay, and an idle socket should cost little.</summary>
    private SemaphoreSlim ReplaySlots =>
        Volatile.Read(ref _replaySlots) ?? LazyInitializer.EnsureInitialized(ref _replaySlots, () => new SemaphoreSlim(Math.Max(1, _options.OutboundQueueCapacity / 2)));

    private bool TryQueue(OutboundFrame frame)
    {
        var queued = false;
        var runPump = false;
        lock (_queueLock)
        {
            if (_completed)
            {
                return false;
            }

            if (QueuedCount < _options.OutboundQueueCapacity)
            {
                runPump = Enqueue(frame);
                queued = true;
            }
        }

        if (queued)
        {
            RunPump(runPump);
            return true;
        }

        if (!IsClosing)
        {
            _metrics.QueueOverflow();
            ConnectionLog.TooSlow(_logger, Id.Value, User.Value);
            Close((WebSocketCloseStatus)CloseCodes.TooSlow, "too slow: reconnect and resume", discardQueued: true);
        }

        return false;
    }

    /// <summary>
    /// Queues a reply to the client's own request, waiting for room: a large <c>resume</c> slows the
    /// client's own receive loop instead of overflowing its queue. False once the socket is closing.
    /// </summary>
    public async ValueTask<bool> SendReplyAsync(ReadOnlyMemory<byte> frame)
    {
        var reply = new OutboundFrame(frame, Replay: false);
        bool runPump;
        while (true)
        {
            Task room;
            lock (_queueLock)
            {
                if (_completed)
                {
                    return false;
                }

                if (QueuedCount < _options.OutboundQueueCapacity)
                {
                    runPump = Enqueue(reply);
                    break;
                }

                room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            try
            {
                await room.WaitAsync(_aborted.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return false;
            }
        }

        RunPump(runPump);
        return true;
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
        var runPump = false;
        lock (_queueLock)
        {
            _discardQueued = discardQueued;
            _completed = true;
            WakeReplyWaiter();

            // The close frame is owed: an idle socket needs a pump to write it.
            runPump = TakePump();
        }

        RunPump(runPump);

        // A client that never answers the close frame does not keep the socket (or a drain) waiting.
        _aborted.CancelAfter(_options.CloseTimeout + TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Runs both loops until the socket is closed; <paramref name="handle"/> processes each text message in order.</summary>
    public async Task RunAsync(WebSocket socket, Func<WebSocketSession, ReadOnlyMemory<byte>, ValueTask> handle, CancellationToken cancellationToken)
    {
        // The request's abort ends the session too: one token for both loops, without a linked source per socket.
        var requestAborted = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _aborted);
        var runPump = false;
        lock (_queueLock)
        {
            // Frames queued before the socket was accepted (the welcome), or a close that came first.
            _socket = socket;
            runPump = (QueuedCount > 0 || _completed) && TakePump();
        }

        RunPump(runPump);

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

            // Once closing, no new pump starts: the last one writes the close frame (or has failed).
            Task sending;
            lock (_queueLock)
            {
                sending = _sendsEnded ? Task.CompletedTask : (_sendsEndedSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            await sending;

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
    /// Queues a frame; the caller holds <see cref="_queueLock"/>. True when no pump is sending: the caller then
    /// runs one (<see cref="RunPump"/>) once it has left the lock.
    /// </summary>
    private bool Enqueue(OutboundFrame frame)
    {
        if (!_hasHead && _queue.Count == 0)
        {
            _head = frame;
            _hasHead = true;
        }
        else
        {
            _queue.Enqueue(frame);
        }

        return TakePump();
    }

    /// <summary>Frames waiting; the caller holds <see cref="_queueLock"/>.</summary>
    private int QueuedCount => _queue.Count + (_hasHead ? 1 : 0);

    /// <summary>Takes the oldest waiting frame; the caller holds <see cref="_queueLock"/>.</summary>
    private bool TryDequeue(out OutboundFrame frame)
    {
        if (_hasHead)
        {
            frame = _head;
            _head = default;
            _hasHead = false;
            return true;
        }

        return _queue.TryDequeue(out frame);
    }

    /// <summary>Claims the one pump when none is running and there is a socket; the caller holds <see cref="_queueLock"/>.</summary>
    private bool TakePump()
    {
        if (_pumping || _socket is null)
        {
            return false;
        }

        _pumping = true;
        return true;
    }

    /// <summary>
    /// Runs the pump on the caller's thread (a socket's receive loop, the sink, a grain turn) when
    /// <paramref name="start"/>: the first write starts at once instead of waking another thread. Every await in
    /// the pump leaves the caller's scheduler, so a grain turn only runs the synchronous start of one write.
    /// </summary>
    private void RunPump(bool start)
    {
        if (start)
        {
            _ = SendPumpAsync();
        }
    }

    private void WakeReplyWaiter()
    {
        _room?.TrySetResult();
        _room = null;
    }

    /// <summary>Sends queued frames in order until the queue is empty; once closing, then writes the close frame.</summary>
    private async Task SendPumpAsync()
    {
        var socket = _socket!;
        var cancellationToken = _aborted.Token;
        try
        {
            while (true)
            {
                OutboundFrame frame;
                lock (_queueLock)
                {
                    if (_discardQueued)
                    {
                        _queue.Clear();
                        _head = default;
                        _hasHead = false;
                    }

                    if (!TryDequeue(out frame))
                    {
                        if (!_completed)
                        {
                            // Idle again: the queue's array goes too.
                            _pumping = false;
                            _queue.TrimExcess();
                            return;
                        }

                        break;
                    }

                    WakeReplyWaiter();
                }

                await socket.SendAsync(frame.Bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                _metrics.FrameSent();
                if (frame.Replay)
                {
                    ReplaySlots.Release();
                }
            }

            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(_closeStatus, _closeReason, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            // The pump stays marked as running: nothing more is sent on a broken socket, and the queue fills up.
            ConnectionLog.SocketError(_logger, Id.Value, exception);
            _aborted.Cancel();
        }

        TaskCompletionSource? signal;
        lock (_queueLock)
        {
            _sendsEnded = true;
            signal = _sendsEndedSignal;
        }

        signal?.TrySetResult();
    }
}

/// <summary>A frame waiting to be sent; replayed frames are counted apart so a resume cannot fill the queue.</summary>
internal readonly record struct OutboundFrame(ReadOnlyMemory<byte> Bytes, bool Replay);

/// <summary>The application close codes of PROTOCOL.md.</summary>
public static class CloseCodes
{
    public const int NodeShuttingDown = 1012;
    public const int TokenExpired = 4001;
    public const int TooSlow = 4008;
    public const int RateLimited = 4029;
}
