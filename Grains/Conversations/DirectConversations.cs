using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Grains.Conversations;

/// <summary>
/// The direct conversations one user's grain sequences. Every direct conversation has exactly one owner, one
/// of its two participants (<see cref="OwnerOf"/>), so a first message needs no grain of its own: no
/// activation, no directory registration, and no read of the latest seq: once per activation the owner
/// loads its conversations with their latest seqs from the log's conversation index (one query), and a
/// conversation outside that list starts at seq 1. Should that knowledge ever be wrong (two activations of
/// one user during a partition), the log's primary key refuses the second writer of a seq and the next append
/// reads the truth back.
/// </summary>
/// <remarks>
/// Each conversation is one entry of one dictionary: its latest seq, whether an append is running, when it was
/// last used. No object per conversation or per message outlives the append (a sequencer object, a semaphore and
/// a set entry per conversation used to: at 1,000 msg/s they were most of what each gen0 collection promoted).
/// Appends to one conversation run one at a time (the grain is reentrant): a second one waits in a queue made
/// only when that happens.
/// </remarks>
internal sealed class DirectConversations(UserId owner, IMessageLog log, TimeProvider time, SemaphoreSlim? listLoads = null)
{
    /// <summary>Owners on one silo reading their list of conversations at once; others read a first conversation's seq alone.</summary>
    public const int ConcurrentListLoads = 4;

    // Per silo (process): when many owners activate together (a cold start: MariaDB's buffer pool empty, every user
    // sending), each list is ~1,000 primary-key descents, and 1,000 of them at once held MariaDB for ~25 s while every
    // send timed out. Past the cap, a first send reads its one conversation's seq (one descent) and a later one tries
    // the list again.
    private static readonly SemaphoreSlim SiloListLoads = new(ConcurrentListLoads, ConcurrentListLoads);

    private readonly SemaphoreSlim _listLoads = listLoads ?? SiloListLoads;

    /// <summary>Conversations remembered with their latest seq; past this, idle ones are dropped and read back when next used.</summary>
    public const int Capacity = 10_000;

    // Latest seq not looked up yet: the activation's list of conversations answers (absent from a complete list: 0).
    private const long Unresolved = -2;

    // Latest seq unknown: read from the log (a write whose outcome is unknown, or a conversation dropped or never listed).
    private const long Unknown = -1;

    private readonly Dictionary<ConversationId, Slot> _slots = [];
    private Dictionary<ConversationId, Queue<TaskCompletionSource>>? _waiting;
    private Task? _load;
    private bool _loaded;

    // True while _slots holds every direct conversation this owner has messages in: a conversation it lacks is new.
    private bool _complete;

    // True once Trim dropped an entry: a list read before that may be older than what the dropped entry knew.
    private bool _dropped;

    // Counts appends: a slot's LastUsed is the count at its last use (an LRU order without reading a clock).
    private int _clock;

    // 16 bytes: an entry of _slots is 32 with its key, hash and link.
    private struct Slot
    {
        public long Latest;
        public int LastUsed;
        public bool Busy;
    }

    /// <summary>Conversations remembered now (for tests).</summary>
    internal int Count => _slots.Count;

    /// <summary>The participant whose grain sequences <paramref name="conversation"/>: stable, and spread evenly over both.</summary>
    public static UserId OwnerOf(ConversationId conversation)
    {
        // FNV-1a over the id, then mixed (FNV's low bits alone follow the parity of the characters): the same
        // answer on every silo, every version and every run.
        var hash = 2166136261u;
        foreach (var c in conversation.Value)
        {
            hash = (hash ^ c) * 16777619u;
        }

        hash ^= hash >> 16;
        hash *= 0x85ebca6bu;
        hash ^= hash >> 13;
        hash *= 0xc2b2ae35u;
        hash ^= hash >> 16;

        var (first, second) = conversation.Participants;
        return (hash & 1) == 0 ? first : second;
    }

    /// <summary>Sequences and stores <paramref name="command"/> in <paramref name="conversation"/>, which this user owns.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<StoredMessage> AppendAsync(ConversationId conversation, SendCommand command)
    {
        if (!TryEnter(conversation))
        {
            await WaitTurnAsync(conversation);
        }

        try
        {
            var latest = Latest(conversation);
            if (latest < 0)
            {
                latest = await ResolveAsync(conversation, latest);
            }

            var message = new StoredMessage(conversation, latest + 1, command.Sender.User, command.To, command.RequestId, command.Body, time.GetUtcNow());
            try
            {
                await MessageLogCalls.AppendAsync(log, message);
            }
            catch (Exception exception) when (MessageLogCalls.LeavesSeqInDoubt(exception))
            {
                SetLatest(conversation, Unknown);
                throw;
            }

            SetLatest(conversation, message.Seq);
            return message;
        }
        finally
        {
            Exit(conversation);
        }
    }

    /// <summary>Takes the conversation's turn when no append holds it (the common case: no allocation, no wait).</summary>
    private bool TryEnter(ConversationId conversation)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_slots, conversation, out var exists);
        if (!exists)
        {
            slot.Latest = Unresolved;
        }

        slot.LastUsed = ++_clock;
        if (slot.Busy)
        {
            return false;
        }

        slot.Busy = true;
        if (!exists)
        {
            Trim();
        }

        return true;
    }

    /// <summary>Waits until the append before this one hands the conversation over (it stays busy throughout).</summary>
    private Task WaitTurnAsync(ConversationId conversation)
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

    private void Exit(ConversationId conversation)
    {
        if (_waiting is not null && _waiting.TryGetValue(conversation, out var queue) && queue.TryDequeue(out var next))
        {
            if (queue.Count == 0)
            {
                _waiting.Remove(conversation);
            }

            next.SetResult();
            return;
        }

        ref var slot = ref CollectionsMarshal.GetValueRefOrNullRef(_slots, conversation);
        if (!Unsafe.IsNullRef(ref slot))
        {
            slot.Busy = false;
        }
    }

    private long Latest(ConversationId conversation) => _slots.TryGetValue(conversation, out var slot) ? slot.Latest : Unresolved;

    private void SetLatest(ConversationId conversation, long latest)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrNullRef(_slots, conversation);
        if (!Unsafe.IsNullRef(ref slot))
        {
            slot.Latest = latest;
        }
    }

    /// <summary>The latest seq of a conversation whose entry does not know it: from the activation's list, else the log.</summary>
    private async ValueTask<long> ResolveAsync(ConversationId conversation, long latest)
    {
        if (latest == Unresolved && !_loaded)
        {
            if (_load is null && _listLoads.Wait(0))
            {
                _load = LoadReleasingAsync();
            }

            // With every list slot of the silo taken, this conversation's seq is read on its own below.
            if (_load is not null)
            {
                try
                {
                    await _load;
                }
                catch
                {
                    // The log is unreachable: the read below reports it (or succeeds once the log is back).
                    _load = null;
                }

                // The list may have filled this entry in.
                latest = Latest(conversation);
            }
        }

        if (latest == Unresolved && _loaded && _complete)
        {
            SetLatest(conversation, 0);
            return 0;
        }

        if (latest >= 0)
        {
            return latest;
        }

        latest = await MessageLogCalls.GuardAsync(() => log.GetLatestSeqAsync(conversation));
        SetLatest(conversation, latest);
        return latest;
    }

    private async Task LoadReleasingAsync()
    {
        try
        {
            await LoadAsync();
        }
        finally
        {
            _listLoads.Release();
        }
    }

    private async Task LoadAsync()
    {
        var listed = await log.ListDirectConversationsAsync(owner, Capacity);
        _loaded = true;
        if (listed is null || _dropped)
        {
            // More than this activation keeps (or entries were dropped while the list was read, and the list may
            // be older than what they knew): each conversation's first append here reads its latest seq.
            _complete = false;
            return;
        }

        // Entries made while the list was loading keep what they learnt since; the others take the listed seq.
        _slots.EnsureCapacity(_slots.Count + listed.Count);
        foreach (var (conversation, seq) in listed)
        {
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_slots, conversation, out var exists);
            if (!exists)
            {
                slot.LastUsed = int.MinValue;
                slot.Latest = seq;
            }
            else if (slot.Latest == Unresolved)
            {
                slot.Latest = seq;
            }
        }

        _complete = true;
        Trim();
    }

    /// <summary>Past <see cref="Capacity"/>, drops the least recently used idle quarter (they are read back when next used).</summary>
    private void Trim()
    {
        if (_slots.Count <= Capacity)
        {
            return;
        }

        var idle = new List<(int LastUsed, ConversationId Conversation)>(_slots.Count);
        foreach (var (conversation, slot) in _slots)
        {
            if (!slot.Busy)
            {
                idle.Add((slot.LastUsed, conversation));
            }
        }

        idle.Sort(static (a, b) => a.LastUsed.CompareTo(b.LastUsed));
        foreach (var (_, conversation) in idle.Take(Capacity / 4))
        {
            _slots.Remove(conversation);
        }

        // A conversation dropped here is no longer "absent, so new".
        _complete = false;
        _dropped = true;
    }
}
