using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Switchboard.Conversations;
using Switchboard.Messaging;

namespace Switchboard.Grains.Conversations;

/// <summary>
/// What one owner remembers of its direct conversations, one dictionary entry each: the latest seq, whether an
/// append holds the conversation's turn, and when it was last used. No object per conversation or per message
/// outlives an append, so an owner's conversations cost the garbage collector nothing between messages; a queue of
/// turns is made only when two appends to one conversation meet. Past its capacity the least recently used idle
/// quarter is dropped, and their seqs are read back when next used.
/// </summary>
/// <remarks>Not thread-safe: its owner's turns never overlap (a grain, reentrant or not).</remarks>
internal sealed class ConversationTable(int capacity)
{
    // Latest seq not looked up yet: the owner's list of conversations answers it (absent from a complete list: 0).
    private const long Unresolved = -2;

    // Latest seq in doubt (a write whose outcome is unknown): read from the log.
    private const long InDoubt = -1;

    private readonly Dictionary<ConversationId, Entry> _entries = [];
    private Dictionary<ConversationId, Queue<TaskCompletionSource>>? _waiting;

    // True once an entry was dropped: a list read before that may be older than what the dropped entry knew.
    private bool _dropped;

    // Counts turns taken: an entry's LastUsed is the count at its last use (an LRU order without reading a clock).
    private int _clock;

    // 16 bytes: an entry of _entries is 32 with its key, hash and link.
    private struct Entry
    {
        public long Latest;
        public int LastUsed;
        public bool Busy;
    }

    public int Capacity => capacity;

    /// <summary>Conversations remembered now.</summary>
    public int Count => _entries.Count;

    /// <summary>True while the table holds every conversation its owner has messages in: one it lacks is new.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>
    /// Takes the conversation's turn: at once, with no allocation, when no append holds it; otherwise once the appends
    /// before hand it over, in the order they came.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask EnterAsync(ConversationId conversation) =>
        TryEnter(conversation) ? default : new ValueTask(WaitTurn(conversation));

    /// <summary>Hands the conversation's turn to the next waiting append, or frees it.</summary>
    public void Exit(ConversationId conversation)
    {
        if (_waiting is not null && _waiting.TryGetValue(conversation, out var queue) && queue.TryDequeue(out var next))
        {
            if (queue.Count == 0)
            {
                _waiting.Remove(conversation);
            }

            // The conversation stays busy: the turn passes straight to the next append.
            next.SetResult();
            return;
        }

        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_entries, conversation);
        if (!Unsafe.IsNullRef(ref entry))
        {
            entry.Busy = false;
        }
    }

    /// <summary>
    /// The conversation's latest seq when the table knows it: remembered, or 0 for one never looked up that a
    /// complete table lacks (a new conversation). False when it is to be read: from the owner's list or the log.
    /// </summary>
    public bool TryGetLatest(ConversationId conversation, out long latest)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_entries, conversation);
        var seq = Unsafe.IsNullRef(ref entry) ? Unresolved : entry.Latest;
        if (seq == Unresolved && IsComplete)
        {
            // Absent from the owner's complete list: a new conversation, remembered as such.
            seq = 0;
            if (!Unsafe.IsNullRef(ref entry))
            {
                entry.Latest = seq;
            }
        }

        latest = Math.Max(seq, 0);
        return seq >= 0;
    }

    /// <summary>True when the conversation's latest seq was never looked up: the owner's list of conversations answers it.</summary>
    public bool IsUnresolved(ConversationId conversation) =>
        !_entries.TryGetValue(conversation, out var entry) || entry.Latest == Unresolved;

    public void SetLatest(ConversationId conversation, long latest)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(latest);
        Set(conversation, latest);
    }

    /// <summary>After a write whose outcome is unknown: the latest seq is read from the log before the next append.</summary>
    public void SetInDoubt(ConversationId conversation) => Set(conversation, InDoubt);

    /// <summary>
    /// Takes the owner's list of its conversations with their latest seqs (null: more than the table holds). Entries
    /// not looked up yet take the listed seq; entries that learnt theirs while the list was read keep it. A list
    /// makes the table complete, unless entries were dropped before it came: it may be older than what they knew.
    /// </summary>
    public void AddList(IReadOnlyList<ConversationSummary>? listed)
    {
        if (listed is null || _dropped)
        {
            // Each conversation's first append reads its latest seq instead.
            IsComplete = false;
            return;
        }

        _entries.EnsureCapacity(_entries.Count + listed.Count);
        foreach (var (conversation, seq, _) in listed)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, conversation, out var exists);
            if (!exists)
            {
                entry.LastUsed = int.MinValue;
                entry.Latest = seq;
            }
            else if (entry.Latest == Unresolved)
            {
                entry.Latest = seq;
            }
        }

        IsComplete = true;
        Trim();
    }

    /// <summary>Takes the conversation's turn when no append holds it, adding its entry when new.</summary>
    private bool TryEnter(ConversationId conversation)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, conversation, out var exists);
        if (!exists)
        {
            entry.Latest = Unresolved;
        }

        entry.LastUsed = ++_clock;
        if (entry.Busy)
        {
            return false;
        }

        entry.Busy = true;
        if (!exists)
        {
            Trim();
        }

        return true;
    }

    /// <summary>Queues for the turn of a conversation an append holds.</summary>
    private Task WaitTurn(ConversationId conversation)
    {
        _waiting ??= [];
        if (!_waiting.TryGetValue(conversation, out var queue))
        {
            queue = new Queue<TaskCompletionSource>(2);
            _waiting[conversation] = queue;
        }

        var turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        queue.Enqueue(turn);
        return turn.Task;
    }

    private void Set(ConversationId conversation, long latest)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_entries, conversation);
        if (!Unsafe.IsNullRef(ref entry))
        {
            entry.Latest = latest;
        }
    }

    /// <summary>Past the capacity, drops the least recently used idle quarter (busy entries stay).</summary>
    private void Trim()
    {
        if (_entries.Count <= capacity)
        {
            return;
        }

        var idle = new List<(int LastUsed, ConversationId Conversation)>(_entries.Count);
        foreach (var (conversation, entry) in _entries)
        {
            if (!entry.Busy)
            {
                idle.Add((entry.LastUsed, conversation));
            }
        }

        idle.Sort(static (a, b) => a.LastUsed.CompareTo(b.LastUsed));
        foreach (var (_, conversation) in idle.Take(capacity / 4))
        {
            _entries.Remove(conversation);
        }

        // A conversation dropped here is no longer "absent, so new".
        IsComplete = false;
        _dropped = true;
    }
}
