namespace Switchboard.Bench.Load;

/// <summary>
/// Every message of one segment (a warm-up followed by one measured window) by number: who sent it to whom,
/// when, whether it was acked, and which recipients got it. Receive loops update it concurrently, without
/// locks: a message's request id carries its segment and number, so a frame finds its record directly.
/// </summary>
internal sealed class MessageBook
{
    private const int Pending = 0;
    private const int Sent = 1;
    private const int Acked = 2;
    private const int Failed = 3;

    private readonly BenchClient[] _clients;
    private readonly TrafficCounters _counters;
    private readonly GroupLayout? _groups;
    private readonly int[] _sender;
    private readonly int[] _target;
    private readonly long[] _dueMicros;
    private readonly long[] _sendMicros;
    private readonly int[] _state;
    private readonly long[] _seq;
    private readonly int[] _delivered;
    private readonly long[]? _groupBits;
    private readonly int _words;
    private readonly Dictionary<string, long> _errors = [];
    private int _allocated;
    private int _measureFrom = int.MaxValue;
    private int _measureTo = int.MaxValue;
    private long _deadlineMicros = long.MaxValue;
    private long _lastMeasuredSendMicros;
    private long _sentCount;
    private long _ackedCount;
    private long _failedCount;
    private long _expectedForAcked;
    private long _deliveredInTime;
    private long _late;
    private long _duplicates;
    private long _misroutes;
    private long _inconsistent;
    private long _overflow;

    public MessageBook(int segment, int capacity, BenchClient[] clients, GroupLayout? groups, int measuredDeliveries, int measuredMessages, TrafficCounters counters)
    {
        Segment = segment;
        _counters = counters;
        _clients = clients;
        _groups = groups;
        _sender = new int[capacity];
        _target = new int[capacity];
        _dueMicros = new long[capacity];
        _sendMicros = new long[capacity];
        _state = new int[capacity];
        _seq = new long[capacity];
        _delivered = new int[capacity];
        if (groups is not null)
        {
            // One bit per member slot and message: a second copy at the same client is a duplicate.
            _words = (groups.Members.Max(m => m.Length) + 63) / 64;
            _groupBits = new long[(long)capacity * _words];
        }

        Latency = new LatencyRecorder(measuredDeliveries + (measuredDeliveries / 10) + 1024);
        AckLatency = new LatencyRecorder(measuredMessages + (measuredMessages / 10) + 1024);
        SchedulerLag = new LatencyRecorder(measuredMessages + (measuredMessages / 10) + 1024);
    }

    public int Segment { get; }

    public int Capacity => _sender.Length;

    /// <summary>Send → delivery at each expected recipient, for measured messages delivered in time.</summary>
    public LatencyRecorder Latency { get; }

    /// <summary>Send → ack (the message is durably stored), for measured messages.</summary>
    public LatencyRecorder AckLatency { get; }

    /// <summary>Due time → actual send: how far the generator fell behind its own schedule.</summary>
    public LatencyRecorder SchedulerLag { get; }

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Misroutes => Interlocked.Read(ref _misroutes);

    public long Inconsistent => Interlocked.Read(ref _inconsistent);

    public long Late => Interlocked.Read(ref _late);

    /// <summary>When the last measured message went to its socket (later than the window's end when the generator fell behind).</summary>
    public long LastMeasuredSendMicros => Interlocked.Read(ref _lastMeasuredSendMicros);

    /// <summary>Messages the schedule wanted that did not fit the book (sized from the schedule: should stay 0).</summary>
    public long Overflow => _overflow;

    /// <summary>True once every message has its ack (or error) and every acked message reached all its recipients.</summary>
    public bool IsSettled =>
        Interlocked.Read(ref _ackedCount) + Interlocked.Read(ref _failedCount) >= Volatile.Read(ref _allocated)
        && Interlocked.Read(ref _deliveredInTime) >= Interlocked.Read(ref _expectedForAcked);

    private bool IsGroup => _groups is not null;

    /// <summary>Scheduler thread only: a number for the next message, or -1 when the book is full.</summary>
    public int Allocate(int sender, int target, long dueMicros)
    {
        var n = _allocated;
        if (n >= _sender.Length)
        {
            _overflow++;
            return -1;
        }

        _sender[n] = sender;
        _target[n] = target;
        _dueMicros[n] = dueMicros;
        Volatile.Write(ref _allocated, n + 1);
        return n;
    }

    /// <summary>Scheduler thread: messages numbered from here on are measured.</summary>
    public void BeginMeasure() => Volatile.Write(ref _measureFrom, Volatile.Read(ref _allocated));

    /// <summary>Scheduler thread: the send window is over; deliveries count until <paramref name="graceMicros"/> from now.</summary>
    public void EndMeasure(long nowMicros, long graceMicros)
    {
        Volatile.Write(ref _measureTo, Volatile.Read(ref _allocated));
        Volatile.Write(ref _deadlineMicros, nowMicros + graceMicros);
    }

    public int ExpectedRecipients(int n) => _groups is null ? 1 : _groups.Members[_target[n]].Length - 1;

    /// <summary>Whole seconds from the first measured message's due time to message <paramref name="n"/>'s.</summary>
    private int SecondOfWindow(int n) => (int)((_dueMicros[n] - _dueMicros[Volatile.Read(ref _measureFrom)]) / 1_000_000);

    private bool IsMeasured(int n) => n >= Volatile.Read(ref _measureFrom) && n < Volatile.Read(ref _measureTo);

    /// <summary>Stamped just before the bytes go to the socket.</summary>
    public void MarkSent(int n, long sendMicros)
    {
        _sendMicros[n] = sendMicros;
        Volatile.Write(ref _state[n], Sent);
        Interlocked.Increment(ref _sentCount);
        Interlocked.Increment(ref _counters.Sent);
        if (IsMeasured(n))
        {
            SchedulerLag.Add(Math.Max(0, sendMicros - _dueMicros[n]));
            long last;
            while (sendMicros > (last = Interlocked.Read(ref _lastMeasuredSendMicros))
                && Interlocked.CompareExchange(ref _lastMeasuredSendMicros, sendMicros, last) != last)
            {
            }
        }
    }

    public void MarkSendFailed(int n, string reason)
    {
        if (Interlocked.Exchange(ref _state[n], Failed) != Failed)
        {
            Interlocked.Increment(ref _failedCount);
            Interlocked.Increment(ref _counters.Failed);
            CountError(reason);
        }
    }

    public void OnAck(int n, in ServerFrame frame, long nowMicros)
    {
        if ((uint)n >= (uint)Volatile.Read(ref _allocated) || Interlocked.CompareExchange(ref _state[n], Acked, Sent) != Sent)
        {
            // An ack for a message never sent, or a second answer to one request.
            Interlocked.Increment(ref _inconsistent);
            return;
        }

        if (frame.Seq <= 0 || !ConversationMatches(n, frame.Conversation) || !AgreeOnSeq(n, frame.Seq))
        {
            Interlocked.Increment(ref _inconsistent);
        }

        Interlocked.Increment(ref _ackedCount);
        Interlocked.Increment(ref _counters.Acked);
        Interlocked.Add(ref _expectedForAcked, ExpectedRecipients(n));
        if (IsMeasured(n))
        {
            AckLatency.Add(nowMicros - _sendMicros[n]);
        }
    }

    public void OnError(int n, ReadOnlySpan<byte> code)
    {
        if ((uint)n >= (uint)Volatile.Read(ref _allocated) || Interlocked.CompareExchange(ref _state[n], Failed, Sent) != Sent)
        {
            Interlocked.Increment(ref _inconsistent);
            return;
        }

        Interlocked.Increment(ref _failedCount);
        Interlocked.Increment(ref _counters.Failed);
        CountError(code.IsEmpty ? "error" : System.Text.Encoding.UTF8.GetString(code));
    }

    /// <summary>A <c>message</c> frame at <paramref name="client"/> whose id names message <paramref name="n"/> of this book.</summary>
    public void OnDelivery(BenchClient client, int n, in ServerFrame frame, long nowMicros)
    {
        if ((uint)n >= (uint)Volatile.Read(ref _allocated))
        {
            Interlocked.Increment(ref _misroutes);
            return;
        }

        var sender = _sender[n];
        var target = _target[n];
        var inTime = nowMicros <= Volatile.Read(ref _deadlineMicros);

        // A direct message is for its target only; a group message for every member but the sender, whose
        // sending connection gets the ack instead.
        var recipient = _groups is null ? client.Index == target : client.Group == target && client.Index != sender;
        if (!recipient)
        {
            Interlocked.Increment(ref _misroutes);
            return;
        }

        if (!frame.To.SequenceEqual(_groups is null ? client.AddressUtf8 : _groups.AddressUtf8[target]))
        {
            Interlocked.Increment(ref _inconsistent);
        }

        // What docs/protocol.md tells clients to dedupe by: (conversation, seq), per client. A second message under
        // a seq the client already holds is dropped by a real client, so it counts as a duplicate too.
        var conversationKey = _groups is null ? sender : _clients.Length + target;
        bool firstCopy;
        if (!client.TryRemember(conversationKey, frame.Seq))
        {
            firstCopy = false;
        }
        else if (_groups is null)
        {
            // 1: delivered in time, 2: late; anything but 0 before means this message came twice.
            firstCopy = Interlocked.CompareExchange(ref _delivered[n], inTime ? 1 : 2, 0) == 0;
        }
        else
        {
            var mask = 1L << (client.GroupSlot & 63);
            var previous = Interlocked.Or(ref _groupBits![((long)n * _words) + (client.GroupSlot >> 6)], mask);
            firstCopy = (previous & mask) == 0;
        }

        if (!firstCopy)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        if (!frame.From.SequenceEqual(_clients[sender].UserUtf8) || !ConversationMatches(n, frame.Conversation)
            || frame.Seq <= 0 || !AgreeOnSeq(n, frame.Seq) || frame.SentMicros == 0)
        {
            Interlocked.Increment(ref _inconsistent);
        }

        if (!inTime)
        {
            Interlocked.Increment(ref _late);
            return;
        }

        if (IsGroup)
        {
            Interlocked.Increment(ref _delivered[n]);
        }

        Interlocked.Increment(ref _deliveredInTime);
        Interlocked.Increment(ref _counters.Delivered);
        if (IsMeasured(n))
        {
            Latency.Add(nowMicros - (frame.SentMicros != 0 ? frame.SentMicros : _sendMicros[n]), SecondOfWindow(n));
        }
    }

    /// <summary>Every copy of a message carries the seq its ack gave (the first to arrive sets it).</summary>
    private bool AgreeOnSeq(int n, long seq)
    {
        var previous = Interlocked.CompareExchange(ref _seq[n], seq, 0);
        return previous == 0 || previous == seq;
    }

    private bool ConversationMatches(int n, ReadOnlySpan<byte> conversation)
    {
        if (_groups is not null)
        {
            return conversation.SequenceEqual(_groups.AddressUtf8[_target[n]]);
        }

        // dm:<a>:<b> with a < b in ordinal (byte) order.
        var a = _clients[_sender[n]].UserUtf8;
        var b = _clients[_target[n]].UserUtf8;
        if (a.AsSpan().SequenceCompareTo(b) > 0)
        {
            (a, b) = (b, a);
        }

        return conversation.Length == 3 + a.Length + 1 + b.Length
            && conversation.StartsWith("dm:"u8)
            && conversation.Slice(3, a.Length).SequenceEqual(a)
            && conversation[3 + a.Length] == (byte)':'
            && conversation[(4 + a.Length)..].SequenceEqual(b);
    }

    private void CountError(string code)
    {
        lock (_errors)
        {
            _errors[code] = _errors.GetValueOrDefault(code) + 1;
        }
    }

    /// <summary>Totals over the measured messages; call once the grace period is over.</summary>
    public WindowCounts CountMeasured()
    {
        var from = Math.Min(Volatile.Read(ref _measureFrom), Volatile.Read(ref _allocated));
        var to = Math.Min(Volatile.Read(ref _measureTo), Volatile.Read(ref _allocated));
        long sent = 0, acked = 0, failed = 0, expected = 0, expectedForAcked = 0, delivered = 0, lost = 0;
        for (var n = from; n < to; n++)
        {
            var state = Volatile.Read(ref _state[n]);
            var recipients = ExpectedRecipients(n);
            var got = IsGroup ? Volatile.Read(ref _delivered[n]) : (Volatile.Read(ref _delivered[n]) == 1 ? 1 : 0);
            expected += recipients;
            if (state == Pending)
            {
                continue;
            }

            sent++;
            delivered += got;
            if (state == Acked)
            {
                acked++;
                expectedForAcked += recipients;
                lost += Math.Max(0, recipients - got);
            }
            else if (state == Failed)
            {
                failed++;
            }
        }

        Dictionary<string, long> errors;
        lock (_errors)
        {
            errors = new Dictionary<string, long>(_errors);
        }

        return new WindowCounts(to - from, sent, acked, failed, sent - acked, expected, expectedForAcked, delivered, lost, errors);
    }
}

/// <summary>What happened to the messages of one measured window.</summary>
/// <param name="Scheduled">Messages the schedule produced in the window.</param>
/// <param name="Sent">Messages written to a socket.</param>
/// <param name="NeverAcked">Sent but never acked: answered with an error, or not answered at all.</param>
/// <param name="Expected">Deliveries the scheduled messages should make (1 per direct message, members − 1 per group message).</param>
/// <param name="ExpectedForAcked">Deliveries the acked messages should make.</param>
/// <param name="Delivered">Deliveries within the grace period after the window.</param>
/// <param name="Lost">Deliveries of acked messages that did not arrive within the grace period.</param>
internal sealed record WindowCounts(
    long Scheduled,
    long Sent,
    long Acked,
    long Failed,
    long NeverAcked,
    long Expected,
    long ExpectedForAcked,
    long Delivered,
    long Lost,
    Dictionary<string, long> Errors);
