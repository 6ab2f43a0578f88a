using System.Runtime.CompilerServices;
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
/// reads the truth back. What the owner remembers per conversation, and the turns of appends to one
/// conversation (the grain is reentrant), are its <see cref="ConversationTable"/>.
/// </summary>
internal sealed class DirectConversations(UserId owner, IMessageLog log, TimeProvider time, ConversationListLoads listLoads)
{
    /// <summary>Conversations remembered with their latest seq; past this, idle ones are dropped and read back when next used.</summary>
    public const int Capacity = 10_000;

    private readonly ConversationTable _table = new(Capacity);
    private Task? _load;
    private bool _loaded;
    private ListPrefetch? _prefetch;

    /// <summary>Conversations remembered now (for tests).</summary>
    internal int Count => _table.Count;

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
        await _table.EnterAsync(conversation);
        try
        {
            if (!_table.TryGetLatest(conversation, out var latest))
            {
                latest = await ResolveAsync(conversation);
            }

            var message = new StoredMessage(conversation, latest + 1, command.Sender.User, command.To, command.RequestId, command.Body, time.GetUtcNow());
            try
            {
                await MessageLogCalls.AppendAsync(log, message);
            }
            catch (Exception exception) when (MessageLogCalls.LeavesSeqInDoubt(exception))
            {
                _table.SetInDoubt(conversation);
                throw;
            }

            _table.SetLatest(conversation, message.Seq);
            return message;
        }
        finally
        {
            _table.Exit(conversation);
        }
    }

    /// <summary>
    /// Starts reading the owner's list now, when its user connects: the first sends come seconds later, and after a
    /// start a thousand users connecting at once would otherwise all read their lists at their first sends. It waits
    /// for one of the silo's list slots off the grain's scheduler, so an activation gone meanwhile holds no slot.
    /// </summary>
    public void Prefetch()
    {
        if (!_loaded && _load is null && _prefetch is null)
        {
            _prefetch = new ListPrefetch(owner, log, listLoads);
        }
    }

    /// <summary>The latest seq of a conversation the table does not know: from the activation's list, else the log.</summary>
    private async ValueTask<long> ResolveAsync(ConversationId conversation)
    {
        if (_table.IsUnresolved(conversation) && !_loaded)
        {
            if (_load is null && _prefetch is { Started: true } prefetch)
            {
                // The read started when the user connected (or done): its answer serves this send.
                _prefetch = null;
                _load = AdoptAsync(prefetch.List);
            }

            if (_load is null && listLoads.TryEnter())
            {
                // A read still queued for a slot gives its turn up: this one reads now.
                _prefetch?.Abandon();
                _prefetch = null;
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
                if (_table.TryGetLatest(conversation, out var listed))
                {
                    return listed;
                }
            }
        }

        var latest = await MessageLogCalls.GuardAsync(() => log.GetLatestSeqAsync(conversation));
        _table.SetLatest(conversation, latest);
        return latest;
    }

    private async Task AdoptAsync(Task<IReadOnlyList<ConversationSummary>?> list)
    {
        var listed = await list;
        _loaded = true;
        _table.AddList(listed);
    }

    private async Task LoadReleasingAsync()
    {
        try
        {
            var listed = await log.ListDirectConversationsAsync(owner, Capacity);
            _loaded = true;
            _table.AddList(listed);
        }
        finally
        {
            listLoads.Exit();
        }
    }

    /// <summary>A list read started ahead of the owner's sends, entirely on the thread pool (slot, query, release).</summary>
    private sealed class ListPrefetch
    {
        private volatile bool _started;
        private volatile bool _abandoned;

        public ListPrefetch(UserId owner, IMessageLog log, ConversationListLoads slots)
        {
            List = Task.Run(() => ReadAsync(owner, log, slots));

            // A read that failed and that no send came to adopt is not an unobserved exception.
            List.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        /// <summary>True once it holds a slot: from then on waiting for it is no longer waiting in the queue.</summary>
        public bool Started => _started;

        public Task<IReadOnlyList<ConversationSummary>?> List { get; }

        /// <summary>The owner read its list itself: if still queued, this gives its turn up.</summary>
        public void Abandon() => _abandoned = true;

        private async Task<IReadOnlyList<ConversationSummary>?> ReadAsync(UserId owner, IMessageLog log, ConversationListLoads slots)
        {
            await slots.WaitAsync().ConfigureAwait(false);
            try
            {
                if (_abandoned)
                {
                    return null;
                }

                _started = true;
                return await log.ListDirectConversationsAsync(owner, Capacity).ConfigureAwait(false);
            }
            finally
            {
                slots.Exit();
            }
        }
    }
}
