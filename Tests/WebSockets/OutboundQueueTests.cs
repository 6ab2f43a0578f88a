using System.Collections.Concurrent;
using System.Text;
using Switchboard.Silo.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>
/// A socket's outbound queue without a socket: a writer that records what is sent, and can hold each send until the
/// test lets it go, yield on every send, or fail.
/// </summary>
[Trait(Category.Name, Category.Fast)]
public sealed class OutboundQueueTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Frames_are_sent_in_the_order_they_were_queued_those_queued_before_the_start_first()
    {
        var writer = new RecordingWriter();
        var queue = new OutboundQueue(16, long.MaxValue, writer);
        Assert.True(queue.TryEnqueue(Frame("welcome")));
        Assert.True(queue.TryEnqueue(Frame("a")));
        Assert.Empty(writer.Log);

        queue.Start();
        Assert.True(queue.TryEnqueue(Frame("b")));
        Assert.True(await queue.EnqueueAsync(Frame("reply"), CancellationToken.None));
        Assert.True(await queue.EnqueueReplayAsync(Frame("replayed"), CancellationToken.None));

        Assert.Equal(["welcome", "a", "b", "reply", "replayed"], writer.Log);
        Assert.Equal(5, writer.SentCalls);
    }

    [Fact]
    public void A_frame_queued_while_the_queue_is_idle_is_sent_on_the_callers_thread_before_TryEnqueue_returns()
    {
        var writer = new RecordingWriter();
        var queue = new OutboundQueue(16, long.MaxValue, writer);
        queue.Start();

        Assert.True(queue.TryEnqueue(Frame("now")));

        // No pump was waiting for it and none is left behind: the send ran here, and nothing waits.
        Assert.Equal(["now"], writer.Log);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task A_full_queue_refuses_a_live_frame_and_still_sends_every_frame_it_took()
    {
        var writer = new RecordingWriter { Gate = new SemaphoreSlim(0) };
        var queue = new OutboundQueue(2, long.MaxValue, writer);
        queue.Start();

        // "0" is being sent (held): it no longer counts against the bound; two more fit, a third does not.
        Assert.True(queue.TryEnqueue(Frame("0")));
        Assert.Equal(0, queue.Count);
        Assert.True(queue.TryEnqueue(Frame("1")));
        Assert.True(queue.TryEnqueue(Frame("2")));
        Assert.False(queue.TryEnqueue(Frame("3")));
        Assert.Equal(2, queue.Count);

        writer.Gate.Release(3);
        await Wait.UntilAsync(() => writer.Log.Count == 3, "the three frames taken are sent");
        Assert.Equal(["0", "1", "2"], writer.Log);

        // Room again once the queue drained.
        writer.Gate.Release(1);
        Assert.True(queue.TryEnqueue(Frame("4")));
        await Wait.UntilAsync(() => writer.Log.Count == 4, "the frame after the refusal is sent");
        Assert.Equal(["0", "1", "2", "4"], writer.Log);
    }

    [Fact]
    public async Task A_reply_to_a_full_queue_waits_for_room_and_is_sent_after_the_frames_before_it()
    {
        var writer = new RecordingWriter { Gate = new SemaphoreSlim(0) };
        var queue = new OutboundQueue(2, long.MaxValue, writer);
        queue.Start();
        queue.TryEnqueue(Frame("0"));
        queue.TryEnqueue(Frame("1"));
        queue.TryEnqueue(Frame("2"));

        var reply = queue.EnqueueAsync(Frame("reply"), CancellationToken.None).AsTask();
        Assert.False(reply.IsCompleted);

        // One send done: the pump takes "1", which makes room for the reply.
        writer.Gate.Release(1);
        Assert.True(await reply.WaitAsync(Deadline));

        writer.Gate.Release(3);
        await Wait.UntilAsync(() => writer.Log.Count == 4, "every frame is sent");
        Assert.Equal(["0", "1", "2", "reply"], writer.Log);
    }

    [Fact]
    public async Task A_reply_waiting_for_room_gets_false_when_the_queue_completes_and_throws_when_cancelled()
    {
        var writer = new RecordingWriter();
        var queue = new OutboundQueue(1, long.MaxValue, writer);
        Assert.True(queue.TryEnqueue(Frame("0")));

        using var cancellation = new CancellationTokenSource();
        var cancelled = queue.EnqueueAsync(Frame("cancelled"), cancellation.Token).AsTask();
        var completed = queue.EnqueueAsync(Frame("completed"), CancellationToken.None).AsTask();
        Assert.False(cancelled.IsCompleted);
        Assert.False(completed.IsCompleted);

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Deadline));
        Assert.False(completed.IsCompleted);

        queue.Complete();
        Assert.False(await completed.WaitAsync(Deadline));

        queue.Start();
        await queue.Completion.WaitAsync(Deadline);
        Assert.Equal(["0", "close"], writer.Log);
    }

    [Fact]
    public async Task Replayed_frames_wait_while_they_take_half_the_queue_and_live_frames_still_get_in()
    {
        var writer = new RecordingWriter { Gate = new SemaphoreSlim(0) };
        var queue = new OutboundQueue(4, long.MaxValue, writer);
        queue.Start();

        // Two replay slots: r1 (being sent) and r2 (waiting) take them; r3 waits for one.
        Assert.True(await queue.EnqueueReplayAsync(Frame("r1"), CancellationToken.None).AsTask().WaitAsync(Deadline));
        Assert.True(await queue.EnqueueReplayAsync(Frame("r2"), CancellationToken.None).AsTask().WaitAsync(Deadline));
        var r3 = queue.EnqueueReplayAsync(Frame("r3"), CancellationToken.None).AsTask();
        Assert.False(r3.IsCompleted);

        // Live frames are not held up by the waiting replay.
        Assert.True(queue.TryEnqueue(Frame("l1")));
        Assert.True(queue.TryEnqueue(Frame("l2")));
        Assert.False(r3.IsCompleted);

        // r1 sent: its slot is free, and r3 goes in behind the live frames.
        writer.Gate.Release(1);
        Assert.True(await r3.WaitAsync(Deadline));

        writer.Gate.Release(4);
        await Wait.UntilAsync(() => writer.Log.Count == 5, "every frame is sent");
        Assert.Equal(["r1", "r2", "l1", "l2", "r3"], writer.Log);
    }

    [Fact]
    public async Task A_replay_that_finds_the_queue_full_of_live_frames_is_refused_and_gives_its_slot_back()
    {
        var writer = new RecordingWriter();
        var queue = new OutboundQueue(2, long.MaxValue, writer);
        queue.TryEnqueue(Frame("l1"));
        queue.TryEnqueue(Frame("l2"));

        // One replay slot (half of 2): refused twice means the first refusal gave it back.
        Assert.False(await queue.EnqueueReplayAsync(Frame("r1"), CancellationToken.None).AsTask().WaitAsync(Deadline));
        Assert.False(await queue.EnqueueReplayAsync(Frame("r2"), CancellationToken.None).AsTask().WaitAsync(Deadline));

        queue.Start();
        Assert.True(await queue.EnqueueReplayAsync(Frame("r3"), CancellationToken.None).AsTask().WaitAsync(Deadline));
        Assert.Equal(["l1", "l2", "r3"], writer.Log);
    }

    [Fact]
    public async Task A_live_frame_is_refused_when_the_waiting_bytes_would_pass_the_byte_bound_and_a_reply_waits()
    {
        var writer = new RecordingWriter { Gate = new SemaphoreSlim(0) };
        var queue = new OutboundQueue(100, maxBytes: 10, writer);
        queue.Start();

        // "aaaaaa" is being sent (not counted); 4 + 6 bytes wait; 1 more byte would pass 10.
        Assert.True(queue.TryEnqueue(Frame("aaaaaa")));
        Assert.True(queue.TryEnqueue(Frame("bbbb")));
        Assert.True(queue.TryEnqueue(Frame("cccccc")));
        Assert.Equal(10, queue.QueuedBytes);
        Assert.False(queue.TryEnqueue(Frame("d")));
        var reply = queue.EnqueueAsync(Frame("reply"), CancellationToken.None).AsTask();
        Assert.False(reply.IsCompleted);

        // "aaaaaa" sent and "bbbb" taken by the pump: 6 bytes wait, still no room for 5 more.
        writer.Gate.Release(1);
        await Wait.UntilAsync(() => queue.QueuedBytes == 6, "the pump to take bbbb");
        Assert.False(reply.IsCompleted);

        // "bbbb" sent and "cccccc" taken: nothing waits, and the reply goes in.
        writer.Gate.Release(1);
        Assert.True(await reply.WaitAsync(Deadline));
        writer.Gate.Release(10);
        await Wait.UntilAsync(() => writer.Log.Count == 4, "every frame is sent");
        Assert.Equal(["aaaaaa", "bbbb", "cccccc", "reply"], writer.Log);
        Assert.Equal(0, queue.QueuedBytes);
    }

    [Fact]
    public void One_frame_larger_than_the_byte_bound_still_fits_an_empty_queue()
    {
        var queue = new OutboundQueue(100, maxBytes: 4, new RecordingWriter());

        Assert.True(queue.TryEnqueue(Frame("larger than four")));
        Assert.False(queue.TryEnqueue(Frame("x")));
    }

    [Fact]
    public async Task Replayed_frames_wait_while_they_take_half_the_bytes()
    {
        var writer = new RecordingWriter { Gate = new SemaphoreSlim(0) };
        var queue = new OutboundQueue(100, maxBytes: 20, writer);
        queue.Start();

        // r1 goes to the writer; r2 (6 bytes) waits, and r3 would make the replays 12 bytes, over half of 20.
        Assert.True(await queue.EnqueueReplayAsync(Frame("r1----"), CancellationToken.None).AsTask().WaitAsync(Deadline));
        Assert.True(await queue.EnqueueReplayAsync(Frame("r2----"), CancellationToken.None).AsTask().WaitAsync(Deadline));
        var r3 = queue.EnqueueReplayAsync(Frame("r3----"), CancellationToken.None).AsTask();
        Assert.False(r3.IsCompleted);
        Assert.True(queue.TryEnqueue(Frame("live")));

        writer.Gate.Release(1);
        Assert.True(await r3.WaitAsync(Deadline));
        writer.Gate.Release(10);
        await Wait.UntilAsync(() => writer.Log.Count == 4, "every frame is sent");
        Assert.Equal(["r1----", "r2----", "live", "r3----"], writer.Log);
    }

    [Fact]
    public async Task Complete_sends_the_queued_frames_then_the_close_once_and_takes_nothing_more()
    {
        var writer = new RecordingWriter { Gate = new SemaphoreSlim(0) };
        var queue = new OutboundQueue(8, long.MaxValue, writer);
        queue.Start();
        queue.TryEnqueue(Frame("1"));
        queue.TryEnqueue(Frame("2"));

        queue.Complete();
        queue.Complete();
        Assert.False(queue.TryEnqueue(Frame("3")));
        Assert.False(await queue.EnqueueAsync(Frame("reply"), CancellationToken.None));
        Assert.False(await queue.EnqueueReplayAsync(Frame("replayed"), CancellationToken.None));
        Assert.False(queue.Completion.IsCompleted);

        writer.Gate.Release(2);
        await queue.Completion.WaitAsync(Deadline);
        Assert.Equal(["1", "2", "close"], writer.Log);
    }

    [Fact]
    public async Task Complete_with_discard_drops_the_waiting_frames_but_finishes_the_one_being_sent()
    {
        var writer = new RecordingWriter { Gate = new SemaphoreSlim(0) };
        var queue = new OutboundQueue(8, long.MaxValue, writer);
        queue.Start();
        queue.TryEnqueue(Frame("1"));
        queue.TryEnqueue(Frame("2"));
        queue.TryEnqueue(Frame("3"));

        queue.Complete(discardQueued: true);
        writer.Gate.Release(3);
        await queue.Completion.WaitAsync(Deadline);

        Assert.Equal(["1", "close"], writer.Log);
    }

    [Fact]
    public async Task A_close_that_comes_before_the_start_is_sent_after_the_queued_frames_once_started()
    {
        var writer = new RecordingWriter();
        var queue = new OutboundQueue(8, long.MaxValue, writer);
        queue.TryEnqueue(Frame("welcome"));
        queue.Complete();
        var completion = queue.Completion;
        Assert.Empty(writer.Log);
        Assert.False(completion.IsCompleted);

        queue.Start();
        await completion.WaitAsync(Deadline);
        Assert.Equal(["welcome", "close"], writer.Log);
    }

    [Fact]
    public void An_idle_queue_sends_the_close_at_once_when_completed()
    {
        var writer = new RecordingWriter();
        var queue = new OutboundQueue(8, long.MaxValue, writer);
        queue.Start();
        queue.TryEnqueue(Frame("1"));

        queue.Complete();

        Assert.Equal(["1", "close"], writer.Log);
        Assert.True(queue.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task After_a_failed_send_nothing_more_is_sent_and_the_queue_fills_up_until_it_refuses()
    {
        var writer = new RecordingWriter { FailSends = true };
        var queue = new OutboundQueue(3, long.MaxValue, writer);
        queue.Start();

        Assert.True(queue.TryEnqueue(Frame("broken")));
        await queue.Completion.WaitAsync(Deadline);
        Assert.IsType<IOException>(writer.Failure);

        Assert.True(queue.TryEnqueue(Frame("1")));
        Assert.True(queue.TryEnqueue(Frame("2")));
        Assert.True(queue.TryEnqueue(Frame("3")));
        Assert.False(queue.TryEnqueue(Frame("4")));

        // No new pump, so no close either: the socket's owner aborts it.
        queue.Complete();
        Assert.Equal(1, writer.SendAttempts);
        Assert.Empty(writer.Log);
    }

    [Fact]
    public async Task Frames_from_concurrent_producers_are_each_sent_once_in_each_producers_order_and_one_at_a_time()
    {
        const int Producers = 4;
        const int PerProducer = 2_000;
        var writer = new RecordingWriter { YieldOnSend = true };
        var queue = new OutboundQueue(Producers * PerProducer, long.MaxValue, writer);
        queue.Start();

        using var start = new ManualResetEventSlim();
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
        {
            start.Wait(Deadline);
            for (var i = 0; i < PerProducer; i++)
            {
                Assert.True(queue.TryEnqueue(Frame($"{p}:{i}")));
            }
        })).ToArray();
        start.Set();
        await Task.WhenAll(producers).WaitAsync(Deadline);
        await Wait.UntilAsync(() => writer.Log.Count == Producers * PerProducer, "every frame is sent");

        Assert.Equal(1, writer.MostSendsAtOnce);
        var sent = writer.Log.Select(f => f.Split(':')).Select(f => (Producer: int.Parse(f[0]), Index: int.Parse(f[1]))).ToList();
        for (var p = 0; p < Producers; p++)
        {
            Assert.Equal(Enumerable.Range(0, PerProducer), sent.Where(f => f.Producer == p).Select(f => f.Index));
        }
    }

    [Fact]
    public async Task Every_frame_taken_before_a_concurrent_Complete_is_sent_before_the_close_and_no_other()
    {
        var writer = new RecordingWriter { YieldOnSend = true };
        var queue = new OutboundQueue(100_000, long.MaxValue, writer);
        queue.Start();

        var taken = new ConcurrentQueue<string>();
        using var start = new ManualResetEventSlim();
        var producers = Enumerable.Range(0, 3).Select(p => Task.Run(() =>
        {
            start.Wait(Deadline);
            for (var i = 0; ; i++)
            {
                var frame = $"{p}:{i}";
                if (!queue.TryEnqueue(Frame(frame)))
                {
                    return;
                }

                taken.Enqueue(frame);
            }
        })).ToArray();
        start.Set();
        await Wait.UntilAsync(() => taken.Count >= 1_000, "the producers got going");

        queue.Complete();
        await Task.WhenAll(producers).WaitAsync(Deadline);
        await queue.Completion.WaitAsync(Deadline);

        var log = writer.Log;
        Assert.Equal("close", log[^1]);
        Assert.Equal(taken.Order(StringComparer.Ordinal), log.Take(log.Count - 1).Order(StringComparer.Ordinal));
    }

    private static ReadOnlyMemory<byte> Frame(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Records each frame as it is sent (and "close"); can hold sends on a gate, yield on each, or fail them.</summary>
    private sealed class RecordingWriter : IOutboundWriter
    {
        private readonly Lock _lock = new();
        private readonly List<string> _log = [];
        private int _sending;
        private int _mostAtOnce;
        private int _attempts;
        private int _sentCalls;

        public SemaphoreSlim? Gate { get; init; }

        public bool YieldOnSend { get; init; }

        public bool FailSends { get; init; }

        public Exception? Failure { get; private set; }

        public List<string> Log
        {
            get
            {
                lock (_lock)
                {
                    return [.. _log];
                }
            }
        }

        public int MostSendsAtOnce => Volatile.Read(ref _mostAtOnce);

        public int SendAttempts => Volatile.Read(ref _attempts);

        public int SentCalls => Volatile.Read(ref _sentCalls);

        public ValueTask SendAsync(ReadOnlyMemory<byte> frame)
        {
            Interlocked.Increment(ref _attempts);
            var text = Encoding.UTF8.GetString(frame.Span);
            var sending = Interlocked.Increment(ref _sending);
            int most;
            while (sending > (most = Volatile.Read(ref _mostAtOnce)) && Interlocked.CompareExchange(ref _mostAtOnce, sending, most) != most)
            {
            }

            if (FailSends)
            {
                Interlocked.Decrement(ref _sending);
                return ValueTask.FromException(new IOException("the socket broke"));
            }

            if (Gate is null && !YieldOnSend)
            {
                Done(text);
                return default;
            }

            return new ValueTask(SendLaterAsync(text));
        }

        public void Sent() => Interlocked.Increment(ref _sentCalls);

        public ValueTask CloseAsync()
        {
            Record("close");
            return default;
        }

        public void Failed(Exception exception) => Failure = exception;

        private async Task SendLaterAsync(string text)
        {
            if (Gate is not null)
            {
                await Gate.WaitAsync();
            }
            else
            {
                await Task.Yield();
            }

            Done(text);
        }

        private void Done(string text)
        {
            Record(text);
            Interlocked.Decrement(ref _sending);
        }

        private void Record(string text)
        {
            lock (_lock)
            {
                _log.Add(text);
            }
        }
    }
}
