using System.Text;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>How a client's first copy of a message reached it.</summary>
internal enum Arrival
{
    Live,
    ReconnectResume,
    GapResume,
    FinalResume,
}

internal enum SendState
{
    /// <summary>Scheduled while its sender was disconnected: written once the sender is back.</summary>
    Waiting,
    InFlight,
    RetryDue,
    Acked,

    /// <summary>Answered with an error that retrying cannot fix (anything but <c>unavailable</c> and <c>rate_limited</c>).</summary>
    Refused,
}

/// <summary>One direct message of the drill: who sends it to whom, every write of it (all with one request id) and every answer.</summary>
internal sealed class DrillMessage(int n, int sender, int target, long scheduledMicros)
{
    public int N { get; } = n;

    public int Sender { get; } = sender;

    public int Target { get; } = target;

    public long ScheduledMicros { get; } = scheduledMicros;

    public SendState State { get; set; }

    public int Writes { get; set; }

    public long FirstWrittenMicros { get; set; }

    public long LastWrittenMicros { get; set; }

    /// <summary>The sender's connection number at the last write: a later number means that write went down with its socket.</summary>
    public int WrittenOnConnection { get; set; }

    public long RetryAtMicros { get; set; }

    public int Unavailable { get; set; }

    /// <summary>Needed a retry, or was waiting for an answer when the silo was killed.</summary>
    public bool Stalled { get; set; }

    public long Seq { get; set; }

    public long AckedMicros { get; set; }

    public string? RefusedCode { get; set; }

    /// <summary>The seq under which the recipient first got it; 0 until then.</summary>
    public long DeliveredSeq { get; set; }

    public Arrival DeliveredBy { get; set; }
}

internal enum HoldResult
{
    New,

    /// <summary>The same message again under the seq it is held by: a client drops it (docs/protocol.md: keep by conversation and seq).</summary>
    Repeat,

    /// <summary>Another message under a seq the client already holds.</summary>
    Conflict,
}

/// <summary>One client's copy of one direct conversation: the message it holds under each seq (its own by their acks).</summary>
internal sealed class ConversationView(string conversation)
{
    private readonly Dictionary<long, int> _held = [];

    public string Conversation { get; } = conversation;

    public IReadOnlyDictionary<long, int> Held => _held;

    /// <summary>Seqs 1 to this are all held: what a <c>resume</c> names as the last seq held.</summary>
    public long Contiguous { get; private set; }

    public long Max { get; private set; }

    /// <summary>When a seq beyond a missing one first arrived; 0 while there is no gap.</summary>
    public long GapSinceMicros { get; private set; }

    public HoldResult Hold(long seq, int n, long nowMicros)
    {
        if (_held.TryGetValue(seq, out var held))
        {
            return held == n ? HoldResult.Repeat : HoldResult.Conflict;
        }

        _held[seq] = n;
        Max = Math.Max(Max, seq);
        while (_held.ContainsKey(Contiguous + 1))
        {
            Contiguous++;
        }

        GapSinceMicros = Max <= Contiguous ? 0 : GapSinceMicros == 0 ? nowMicros : GapSinceMicros;
        return HoldResult.New;
    }

    /// <summary>How many of seqs 1 to <paramref name="latest"/> are not held.</summary>
    public long MissingUpTo(long latest) => latest - _held.Keys.Count(s => s <= latest);
}

/// <summary>What went wrong, or right, with the messages, counted as the frames arrive.</summary>
internal sealed class DrillCounts
{
    public long Writes { get; set; }

    public long Retries { get; set; }

    public long Unavailable { get; set; }

    public long Timeouts { get; set; }

    public long DroppedWithSocket { get; set; }

    public long WaitedForSender { get; set; }

    public long RepeatAcks { get; set; }

    public long OwnCopies { get; set; }

    /// <summary>One request id stored under two seqs: two acks, or an ack and a copy, or two copies, disagree.</summary>
    public long StoredTwice { get; set; }

    /// <summary>Two different messages under one (conversation, seq) at a client.</summary>
    public long SeqConflicts { get; set; }

    /// <summary>The same (conversation, seq) twice on a connection that never sent a <c>resume</c>.</summary>
    public long DoublePushes { get; set; }

    /// <summary>The same (conversation, seq) again on a connection that resumed: live delivery and a replay may overlap.</summary>
    public long RepeatsDropped { get; set; }

    public long Misroutes { get; set; }

    public long Inconsistent { get; set; }

    public Dictionary<string, long> Errors { get; } = [];

    public long Duplicates => StoredTwice + SeqConflicts + DoublePushes;
}

/// <summary>The verdict over every message and every client's copy of every conversation.</summary>
internal sealed record LedgerVerdict(
    long Scheduled,
    long Acked,
    long NeverAcked,
    long Delivered,
    IReadOnlyDictionary<Arrival, long> DeliveredBy,
    long Lost,
    long DeliveredButNeverAcked,
    long Conversations,
    long GappedViews,
    long MissingSeqs,
    IReadOnlyList<string> Examples);

/// <summary>
/// Every message of the drill by number and every client's view of every conversation. Not thread-safe: the
/// drill calls it under its one lock (the rates are low; clarity wins over lock-free counting here).
/// </summary>
internal sealed class DrillLedger
{
    private readonly List<DrillMessage> _messages = [];
    private readonly Dictionary<(int Client, int Peer), ConversationView> _views = [];
    private readonly string[] _users;
    private readonly byte[][] _usersUtf8;
    private readonly byte[][] _addressesUtf8;
    private readonly Dictionary<string, int> _indexOf;

    public DrillLedger(IReadOnlyList<string> users)
    {
        _users = [.. users];
        _usersUtf8 = [.. users.Select(Encoding.UTF8.GetBytes)];
        _addressesUtf8 = [.. users.Select(u => Encoding.UTF8.GetBytes($"user:{u}"))];
        _indexOf = users.Select((u, i) => (u, i)).ToDictionary(p => p.u, p => p.i, StringComparer.Ordinal);
    }

    public DrillCounts Counts { get; } = new();

    public IReadOnlyList<DrillMessage> Messages => _messages;

    public byte[] AddressUtf8(int client) => _addressesUtf8[client];

    /// <summary><c>dm:&lt;a&gt;:&lt;b&gt;</c>, a &lt; b in ordinal order.</summary>
    public string ConversationOf(int a, int b) =>
        string.CompareOrdinal(_users[a], _users[b]) < 0 ? $"dm:{_users[a]}:{_users[b]}" : $"dm:{_users[b]}:{_users[a]}";

    /// <summary>The other user of a direct conversation of <paramref name="client"/>'s; -1 when it is not one of the drill's.</summary>
    public int PeerOf(int client, string conversation)
    {
        var parts = conversation.Split(':');
        if (parts.Length != 3 || parts[0] != "dm")
        {
            return -1;
        }

        var other = parts[1] == _users[client] ? parts[2] : parts[2] == _users[client] ? parts[1] : null;
        return other is not null && _indexOf.TryGetValue(other, out var peer) ? peer : -1;
    }

    public DrillMessage Schedule(int sender, int target, long nowMicros)
    {
        var message = new DrillMessage(_messages.Count, sender, target, nowMicros);
        _messages.Add(message);
        return message;
    }

    /// <summary>Records a write of <paramref name="message"/> on its sender's connection number <paramref name="connection"/>.</summary>
    public void MarkWritten(DrillMessage message, int connection, long nowMicros)
    {
        if (message.Writes == 0)
        {
            message.FirstWrittenMicros = nowMicros;
        }
        else
        {
            Counts.Retries++;
        }

        message.Writes++;
        message.LastWrittenMicros = nowMicros;
        message.WrittenOnConnection = connection;
        message.State = SendState.InFlight;
        Counts.Writes++;
    }

    /// <summary>
    /// The messages to write now, already marked written: those waiting for their sender, those whose retry is due,
    /// those whose write went down with its socket, and those unanswered for <paramref name="ackTimeoutMicros"/>.
    /// <paramref name="connectionOf"/> gives a client's connection number, 0 while it is disconnected.
    /// </summary>
    public List<DrillMessage> TakeDue(long nowMicros, Func<int, int> connectionOf, long ackTimeoutMicros)
    {
        var due = new List<DrillMessage>();
        foreach (var message in _messages)
        {
            if (message.State is SendState.Acked or SendState.Refused)
            {
                continue;
            }

            var connection = connectionOf(message.Sender);
            if (connection == 0)
            {
                continue;
            }

            var write = false;
            switch (message.State)
            {
                case SendState.Waiting:
                    write = true;
                    if (message.Writes == 0)
                    {
                        Counts.WaitedForSender++;
                    }

                    break;
                case SendState.RetryDue:
                    write = nowMicros >= message.RetryAtMicros;
                    break;
                case SendState.InFlight when message.WrittenOnConnection != connection:
                    Counts.DroppedWithSocket++;
                    message.Stalled = true;
                    write = true;
                    break;
                case SendState.InFlight when nowMicros - message.LastWrittenMicros > ackTimeoutMicros:
                    Counts.Timeouts++;
                    message.Stalled = true;
                    write = true;
                    break;
            }

            if (write)
            {
                MarkWritten(message, connection, nowMicros);
                due.Add(message);
            }
        }

        return due;
    }

    /// <summary>The silo is gone: whatever waits for an answer now was stalled by the kill.</summary>
    public void MarkKill()
    {
        foreach (var message in _messages)
        {
            if (message.State is SendState.InFlight or SendState.RetryDue or SendState.Waiting)
            {
                message.Stalled = true;
            }
        }
    }

    public void OnAck(int client, int n, ReadOnlySpan<byte> conversation, long seq, long nowMicros)
    {
        if (!TryGet(n, out var message) || message.Sender != client)
        {
            Counts.Inconsistent++;
            return;
        }

        if (seq <= 0 || !conversation.SequenceEqual(Encoding.UTF8.GetBytes(ConversationOf(message.Sender, message.Target))))
        {
            Counts.Inconsistent++;
        }

        if (message.State == SendState.Acked)
        {
            // The answer to another write of the same id: the protocol's dedupe must give the same seq.
            Counts.RepeatAcks++;
            if (seq != message.Seq)
            {
                Counts.StoredTwice++;
            }

            return;
        }

        if (message.DeliveredSeq != 0 && message.DeliveredSeq != seq)
        {
            Counts.StoredTwice++;
        }

        message.State = SendState.Acked;
        message.Seq = seq;
        message.AckedMicros = nowMicros;
        if (View(client, message.Target).Hold(seq, n, nowMicros) == HoldResult.Conflict)
        {
            Counts.SeqConflicts++;
        }
    }

    /// <summary>An error answer: <c>unavailable</c> and <c>rate_limited</c> are retried with the same id after a backoff.</summary>
    public void OnError(int client, int n, string code, long nowMicros)
    {
        Counts.Errors[code] = Counts.Errors.GetValueOrDefault(code) + 1;
        if (!TryGet(n, out var message) || message.Sender != client)
        {
            Counts.Inconsistent++;
            return;
        }

        if (message.State == SendState.Acked)
        {
            return;
        }

        if (code is "unavailable" or "rate_limited")
        {
            if (code == "unavailable")
            {
                Counts.Unavailable++;
            }

            message.Unavailable++;
            message.Stalled = true;
            message.State = SendState.RetryDue;

            // 250 ms, doubling, at most 2 s: quick while the cluster recovers, gentle if it does not.
            message.RetryAtMicros = nowMicros + (Math.Min(2_000_000, 250_000L << Math.Min(message.Unavailable - 1, 4)));
        }
        else
        {
            message.State = SendState.Refused;
            message.RefusedCode = code;
        }
    }

    /// <summary>A <c>message</c> frame at <paramref name="client"/>: its recipient's copy, or (from a resume) the sender's own.</summary>
    public void OnMessage(int client, int n, in ServerFrame frame, Arrival arrival, bool resumedConnection, long nowMicros)
    {
        if (!TryGet(n, out var message))
        {
            Counts.Inconsistent++;
            return;
        }

        var own = client == message.Sender;
        if (!own && client != message.Target)
        {
            Counts.Misroutes++;
            return;
        }

        if (frame.Seq <= 0 || !frame.From.SequenceEqual(_usersUtf8[message.Sender]) || !frame.To.SequenceEqual(_addressesUtf8[message.Target])
            || !frame.Conversation.SequenceEqual(Encoding.UTF8.GetBytes(ConversationOf(message.Sender, message.Target))))
        {
            Counts.Inconsistent++;
        }

        if (message.State == SendState.Acked && message.Seq != frame.Seq)
        {
            Counts.StoredTwice++;
        }

        switch (View(client, own ? message.Target : message.Sender).Hold(frame.Seq, n, nowMicros))
        {
            case HoldResult.Conflict:
                Counts.SeqConflicts++;
                return;
            case HoldResult.Repeat:
                // A replay may overlap live delivery, and the sender's own messages come back on a resume; a second
                // push of one seq to a connection that never resumed is a real duplicate.
                if (resumedConnection || own)
                {
                    Counts.RepeatsDropped++;
                }
                else
                {
                    Counts.DoublePushes++;
                }

                return;
        }

        if (own)
        {
            Counts.OwnCopies++;
            return;
        }

        if (message.DeliveredSeq != 0)
        {
            // Held under another seq already (a second seq for one id; the ack check above counts it when acked).
            if (message.State != SendState.Acked)
            {
                Counts.StoredTwice++;
            }

            return;
        }

        message.DeliveredSeq = frame.Seq;
        message.DeliveredBy = arrival;
    }

    /// <summary>For a <c>resume</c>: the last contiguous seq <paramref name="client"/> holds of each conversation it knows (or of <paramref name="peers"/>).</summary>
    public Dictionary<string, long> Since(int client, IReadOnlyCollection<int>? peers = null)
    {
        var since = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var ((owner, peer), view) in _views)
        {
            if (owner == client && (peers is null || peers.Contains(peer)))
            {
                since[view.Conversation] = view.Contiguous;
            }
        }

        return since;
    }

    /// <summary>
    /// For a resume after a (re)connect: each conversation the user's list names whose latest seq is beyond what
    /// <paramref name="client"/> holds without a gap, and each it holds with a gap. With <paramref name="problems"/>
    /// (the final resume, when everything is acked) the list must also name every conversation of the client's
    /// with an acked message, at that message's seq or beyond.
    /// </summary>
    public Dictionary<string, long> Behind(int client, IReadOnlyList<(string Conversation, long Seq)> listed, List<string>? problems)
    {
        var since = new Dictionary<string, long>(StringComparer.Ordinal);
        var latest = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (conversation, seq) in listed)
        {
            var peer = PeerOf(client, conversation);
            if (peer < 0)
            {
                continue; // not the drill's: its users are fresh, so there should be none
            }

            latest[conversation] = seq;
            var held = ContiguousOf(client, peer);
            if (seq > held)
            {
                since[conversation] = held;
            }
        }

        foreach (var ((owner, _), view) in _views)
        {
            if (owner == client && view.Max > view.Contiguous)
            {
                since.TryAdd(view.Conversation, view.Contiguous);
            }
        }

        if (problems is not null)
        {
            foreach (var conversation in _messages.Where(m => m.State == SendState.Acked && (m.Sender == client || m.Target == client))
                .GroupBy(m => ConversationOf(m.Sender, m.Target)))
            {
                var acked = conversation.Max(m => m.Seq);
                var named = latest.GetValueOrDefault(conversation.Key);
                if (named < acked)
                {
                    problems.Add($"the conversation list of {_users[client]} gives {conversation.Key} at seq {named}, but seq {acked} was acked");
                }
            }
        }

        return since;
    }

    /// <summary>What <paramref name="client"/> holds of its conversation with <paramref name="peer"/>: message number by seq.</summary>
    public IReadOnlyDictionary<long, int> HeldBy(int client, int peer) => _views.TryGetValue((client, peer), out var view) ? view.Held : new Dictionary<long, int>();

    public string User(int client) => _users[client];

    public long ContiguousOf(int client, int peer) => _views.TryGetValue((client, peer), out var view) ? view.Contiguous : 0;

    /// <summary>Peers of <paramref name="client"/> whose conversation has had a gap since before <paramref name="olderThanMicros"/>.</summary>
    public List<int> Gapped(int client, long olderThanMicros) =>
        [.. _views.Where(v => v.Key.Client == client && v.Value.GapSinceMicros != 0 && v.Value.GapSinceMicros <= olderThanMicros).Select(v => v.Key.Peer)];

    /// <summary>True when every message is acked (or refused) and every acked one reached its recipient.</summary>
    public bool IsSettled => _messages.All(m => m.State == SendState.Refused || (m.State == SendState.Acked && m.DeliveredSeq != 0));

    public long Unanswered => _messages.Count(m => m.State is not (SendState.Acked or SendState.Refused));

    public long Acked => _messages.Count(m => m.State == SendState.Acked);

    public long Delivered => _messages.Count(m => m.DeliveredSeq != 0);

    /// <summary>
    /// Lost: acked, never at its recipient. Gaps: for every conversation, seqs 1 to the highest any of its two
    /// clients holds or was acked that a client does not hold.
    /// </summary>
    public LedgerVerdict Verify()
    {
        var examples = new List<string>();
        var lost = 0L;
        var deliveredBy = Enum.GetValues<Arrival>().ToDictionary(a => a, _ => 0L);
        foreach (var message in _messages)
        {
            if (message.DeliveredSeq != 0)
            {
                deliveredBy[message.DeliveredBy]++;
            }

            if (message.State == SendState.Acked && message.DeliveredSeq == 0)
            {
                lost++;
                if (examples.Count < 5)
                {
                    examples.Add($"lost: {_users[message.Sender]} -> {_users[message.Target]} #{message.N} acked as seq {message.Seq} " +
                        $"(written {message.Writes}x, {ConversationOf(message.Sender, message.Target)})");
                }
            }
        }

        var pairs = _messages.Where(m => m.State == SendState.Acked || m.DeliveredSeq != 0)
            .Select(m => (A: Math.Min(m.Sender, m.Target), B: Math.Max(m.Sender, m.Target))).Distinct().ToList();
        long gapped = 0, missing = 0;
        foreach (var (a, b) in pairs)
        {
            var latest = new[] { Max(a, b), Max(b, a) }
                .Concat(_messages.Where(m => m.State == SendState.Acked && Math.Min(m.Sender, m.Target) == a && Math.Max(m.Sender, m.Target) == b).Select(m => m.Seq))
                .Max();
            foreach (var (client, peer) in new[] { (a, b), (b, a) })
            {
                var absent = _views.TryGetValue((client, peer), out var view) ? view.MissingUpTo(latest) : latest;
                if (absent > 0)
                {
                    gapped++;
                    missing += absent;
                    if (examples.Count < 10)
                    {
                        examples.Add($"gap: {_users[client]} lacks {absent} of seqs 1-{latest} of {ConversationOf(a, b)} (holds 1-{view?.Contiguous ?? 0} contiguously)");
                    }
                }
            }
        }

        var acked = Acked;
        return new LedgerVerdict(
            _messages.Count,
            acked,
            _messages.Count - acked,
            _messages.Count(m => m.State == SendState.Acked && m.DeliveredSeq != 0),
            deliveredBy,
            lost,
            _messages.Count(m => m.State != SendState.Acked && m.DeliveredSeq != 0),
            pairs.Count,
            gapped,
            missing,
            examples);
    }

    private long Max(int client, int peer) => _views.TryGetValue((client, peer), out var view) ? view.Max : 0;

    private bool TryGet(int n, out DrillMessage message)
    {
        message = (uint)n < (uint)_messages.Count ? _messages[n] : null!;
        return message is not null;
    }

    private ConversationView View(int client, int peer)
    {
        if (!_views.TryGetValue((client, peer), out var view))
        {
            view = new ConversationView(ConversationOf(client, peer));
            _views[(client, peer)] = view;
        }

        return view;
    }
}
