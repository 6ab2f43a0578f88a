using System.Runtime.CompilerServices;

namespace Switchboard.Silo.WebSockets;

/// <summary>
/// One socket's frames on their way out: bounded in frames and in bytes, sent in order by one pump that runs only while frames wait (an
/// idle socket keeps no send loop), and ended by the close, sent after the queued frames. Three ways in, one per
/// kind of frame: a live frame is refused when the queue is full (its socket is then too slow to keep), a reply to
/// the client's own request waits for room (a large <c>resume</c> slows the client's own requests instead of
/// overflowing), and a replayed frame waits while replays take half the queue, in frames or in bytes (a replay goes at
/// the pace the client reads and leaves room for live frames). One frame always fits an empty queue, whatever its size.
/// </summary>
internal sealed class OutboundQueue
{
    private readonly Lock _lock = new();
    private readonly IOutboundWriter _writer;

    // The oldest waiting frame is kept in _head, the rest in _frames: a socket that gets one frame at a time (nearly
    // all of them) never makes the queue's array.
    private readonly Queue<Frame> _frames = new();
    private Frame _head;
    private bool _hasHead;

    private bool _started;
    private bool _pumping;
    private bool _completed;
    private bool _discardQueued;
    private bool _ended;
    private TaskCompletionSource? _room;
    private TaskCompletionSource? _endedSignal;
    private SemaphoreSlim? _replaySlots;
    private long _queuedBytes;
    private long _replayBytes;

    /// <param name="capacity">Frames that may wait; the frame being sent is not counted.</param>
    /// <param name="maxBytes">Bytes that may wait (the frame being sent is not counted).</param>
    /// <param name="writer">Where frames and the close are sent, once <see cref="Start"/> is called.</param>
    public OutboundQueue(int capacity, long maxBytes, IOutboundWriter writer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        Capacity = capacity;
        MaxBytes = maxBytes;
        _writer = writer;
    }

    public int Capacity { get; }

    public long MaxBytes { get; }

    /// <summary>Bytes waiting to be sent.</summary>
    public long QueuedBytes
    {
        get
        {
            lock (_lock)
            {
                return _queuedBytes;
            }
        }
    }

    /// <summary>Frames waiting to be sent.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return QueuedCount;
            }
        }
    }

    /// <summary>
    /// Completes once the close was sent after the last frame, or a send failed. Only a started queue gets there,
    /// and only once <see cref="Complete"/> was called or a send failed.
    /// </summary>
    public Task Completion
    {
        get
        {
            lock (_lock)
            {
                return _ended ? Task.CompletedTask : (_endedSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    /// <summary>Made on the first replay: most sockets never replay, and an idle socket should cost little.</summary>
    private SemaphoreSlim ReplaySlots =>
        Volatile.Read(ref _replaySlots) ?? LazyInitializer.EnsureInitialized(ref _replaySlots, () => new SemaphoreSlim(Math.Max(1, Capacity / 2)));

    /// <summary>Frames waiting; the caller holds <see cref="_lock"/>.</summary>
    private int QueuedCount => _frames.Count + (_hasHead ? 1 : 0);

    /// <summary>Queues a live frame. False when the queue is full or completed: a live frame never waits.</summary>
    public bool TryEnqueue(ReadOnlyMemory<byte> frame) => TryEnqueue(new Frame(frame, Replay: false));

    /// <summary>Queues a reply, waiting for room. False once the queue is completed; throws when cancelled.</summary>
    // Pooled: a wait here would otherwise cost a second object per reply, under the session's own async method.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> EnqueueAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        var reply = new Frame(frame, Replay: false);
        bool pump;
        while (true)
        {
            Task room;
            lock (_lock)
            {
                if (_completed)
                {
                    return false;
                }

                if (HasRoomFor(reply.Bytes.Length))
                {
                    pump = Enqueue(reply);
                    break;
                }

                room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            await room.WaitAsync(cancellationToken);
        }

        RunPump(pump);
        return true;
    }

    /// <summary>
    /// Queues a replayed frame, first waiting while replayed frames take half the queue. False when the queue is
    /// full or completed (as for a live frame); throws when cancelled.
    /// </summary>
    // Pooled: a paced replay waits here for most of its frames, under the session's own async method.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> EnqueueReplayAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        var slots = ReplaySlots;
        await slots.WaitAsync(cancellationToken);

        // Half the bytes too: a replay of large messages must not fill the queue in fewer frames.
        while (true)
        {
            Task room;
            lock (_lock)
            {
                if (_completed || _replayBytes == 0 || _replayBytes + frame.Length <= MaxBytes / 2)
                {
                    break;
                }

                room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            try
            {
                await room.WaitAsync(cancellationToken);
            }
            catch
            {
                slots.Release();
                throw;
            }
        }

        if (TryEnqueue(new Frame(frame, Replay: true)))
        {
            return true;
        }

        slots.Release();
        return false;
    }

    /// <summary>
    /// Lets the writer send: frames queued before (a socket's welcome, queued before it was accepted) and a close
    /// that came first go out now.
    /// </summary>
    public void Start()
    {
        bool pump;
        lock (_lock)
        {
            _started = true;
            pump = (QueuedCount > 0 || _completed) && TakePump();
        }

        RunPump(pump);
    }

    /// <summary>
    /// Takes no more frames (a reply waiting for room gets false): the queued frames are sent, or dropped when
    /// <paramref name="discardQueued"/>, then the close. Idempotent.
    /// </summary>
    public void Complete(bool discardQueued = false)
    {
        bool pump;
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _discardQueued = discardQueued;
            _completed = true;
            WakeRoomWaiter();

            // The close is owed: an idle queue needs a pump to send it.
            pump = TakePump();
        }

        RunPump(pump);
    }

    private bool TryEnqueue(Frame frame)
    {
        bool pump;
        lock (_lock)
        {
            if (_completed || !HasRoomFor(frame.Bytes.Length))
            {
                return false;
            }

            pump = Enqueue(frame);
        }

        RunPump(pump);
        return true;
    }

    /// <summary>Whether a frame of <paramref name="length"/> bytes fits; the caller holds <see cref="_lock"/>.</summary>
    private bool HasRoomFor(int length) =>
        QueuedCount == 0 || (QueuedCount < Capacity && _queuedBytes + length <= MaxBytes);

    /// <summary>Queues a frame; the caller holds <see cref="_lock"/>. True when the caller is to run the pump.</summary>
    private bool Enqueue(Frame frame)
    {
        _queuedBytes += frame.Bytes.Length;
        if (frame.Replay)
        {
            _replayBytes += frame.Bytes.Length;
        }

        if (!_hasHead && _frames.Count == 0)
        {
            _head = frame;
            _hasHead = true;
        }
        else
        {
            _frames.Enqueue(frame);
        }

        return TakePump();
    }

    /// <summary>Takes the oldest waiting frame; the caller holds <see cref="_lock"/>.</summary>
    private bool TryDequeue(out Frame frame)
    {
        if (_hasHead)
        {
            frame = _head;
            _head = default;
            _hasHead = false;
        }
        else if (!_frames.TryDequeue(out frame))
        {
            return false;
        }

        _queuedBytes -= frame.Bytes.Length;
        if (frame.Replay)
        {
            _replayBytes -= frame.Bytes.Length;
        }

        return true;
    }

    /// <summary>Claims the one pump when none is running and the writer may send; the caller holds <see cref="_lock"/>.</summary>
    private bool TakePump()
    {
        if (_pumping || !_started)
        {
            return false;
        }

        _pumping = true;
        return true;
    }

    /// <summary>
    /// Runs the pump on the caller's thread (a socket's receive loop, the sink, a grain turn) when
    /// <paramref name="start"/>: the first send starts at once instead of waking another thread. Every await in the
    /// pump leaves the caller's scheduler, so a grain turn only runs the synchronous start of one send.
    /// </summary>
    private void RunPump(bool start)
    {
        if (start)
        {
            _ = PumpAsync();
        }
    }

    private void WakeRoomWaiter()
    {
        _room?.TrySetResult();
        _room = null;
    }

    /// <summary>Sends queued frames in order until none wait; once completed, then the close.</summary>
    private async Task PumpAsync()
    {
        try
        {
            while (true)
            {
                Frame frame;
                lock (_lock)
                {
                    if (_discardQueued)
                    {
                        _frames.Clear();
                        _head = default;
                        _hasHead = false;
                        _queuedBytes = 0;
                        _replayBytes = 0;
                    }

                    if (!TryDequeue(out frame))
                    {
                        if (!_completed)
                        {
                            // Idle again: the queue's array goes too.
                            _pumping = false;
                            _frames.TrimExcess();
                            return;
                        }

                        break;
                    }

                    WakeRoomWaiter();
                }

                await _writer.SendAsync(frame.Bytes).ConfigureAwait(false);
                _writer.Sent();
                if (frame.Replay)
                {
                    ReplaySlots.Release();
                }
            }

            await _writer.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The pump stays claimed: nothing more is sent through a broken writer, and the queue fills up.
            _writer.Failed(exception);
        }

        TaskCompletionSource? signal;
        lock (_lock)
        {
            _ended = true;
            signal = _endedSignal;
        }

        signal?.TrySetResult();
    }

    private readonly record struct Frame(ReadOnlyMemory<byte> Bytes, bool Replay);
}

/// <summary>Where an <see cref="OutboundQueue"/> sends: a socket. Called by one pump at a time, never concurrently.</summary>
internal interface IOutboundWriter
{
    /// <summary>Sends one frame. Return the socket's own task (no async method): a send that completes at once then costs nothing.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> frame);

    /// <summary>A frame was sent.</summary>
    void Sent();

    /// <summary>Sends the close, after the last frame.</summary>
    ValueTask CloseAsync();

    /// <summary>A send or the close failed: nothing more is sent through this writer.</summary>
    void Failed(Exception exception);
}
