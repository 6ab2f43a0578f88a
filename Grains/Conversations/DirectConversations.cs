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
/// one user during a partition), the log's primary key refuses the second writer of a seq and the sequencer
/// reads the truth back.
/// </summary>
internal sealed class DirectConversations(UserId owner, IMessageLog log, TimeProvider time)
{
    /// <summary>Sequencers kept per owner; idle ones beyond this are dropped (they read their seq back when next used).</summary>
    public const int SequencerCapacity = 1024;

    /// <summary>Conversations an owner remembers as "may have messages"; past this it reads the latest seq of each.</summary>
    public const int KnownCapacity = 10_000;

    private readonly Dictionary<ConversationId, ConversationSequencer> _sequencers = [];

    // Conversations that may have messages: what the log's index listed at load (with the latest seq then), plus
    // every one appended to since (added before the write, which may land even when it reports a failure). Null
    // when unknown.
    private Dictionary<ConversationId, long>? _known;
    private readonly HashSet<ConversationId> _touched = [];
    private Task? _load;
    private bool _tooMany;

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
        if (!_sequencers.TryGetValue(conversation, out var sequencer))
        {
            var latest = await KnownLatestAsync(conversation);

            // Another send may have created it while this one waited for the index.
            if (!_sequencers.TryGetValue(conversation, out sequencer))
            {
                sequencer = new ConversationSequencer(conversation, log, time, latest);
                _sequencers[conversation] = sequencer;
                Trim();
            }
        }

        Touch(conversation);
        return await sequencer.AppendAsync(command);
    }

    /// <summary>The conversation's latest seq if this activation knows it without asking the log (0: new), else -1.</summary>
    private async ValueTask<long> KnownLatestAsync(ConversationId conversation)
    {
        if (_tooMany || _touched.Contains(conversation))
        {
            return -1;
        }

        if (_known is null)
        {
            _load ??= LoadAsync();
            try
            {
                await _load;
            }
            catch
            {
                // The log is unreachable: the sequencer's own read reports it (or succeeds once the log is back).
                _load = null;
                return -1;
            }
        }

        if (_known is null || _touched.Contains(conversation))
        {
            return -1;
        }

        return _known.TryGetValue(conversation, out var latest) ? latest : 0;
    }

    private async Task LoadAsync()
    {
        var known = await log.ListDirectConversationsAsync(owner, KnownCapacity);
        if (known is null)
        {
            _tooMany = true;
            return;
        }

        _known = known.ToDictionary(c => c.Conversation, c => c.Seq);
    }

    private void Touch(ConversationId conversation)
    {
        if (_tooMany || !_touched.Add(conversation))
        {
            return;
        }

        if (_touched.Count + (_known?.Count ?? 0) > KnownCapacity)
        {
            // Remembering more would cost more than the reads it saves.
            _tooMany = true;
            _known = null;
            _touched.Clear();
        }
    }

    private void Trim()
    {
        if (_sequencers.Count <= SequencerCapacity)
        {
            return;
        }

        // Drop the least recently used idle quarter; the next use of one reads its latest seq back.
        var idle = _sequencers.Where(pair => pair.Value.IsIdle).OrderBy(pair => pair.Value.LastUsed).Take(SequencerCapacity / 4).ToList();
        foreach (var (conversation, _) in idle)
        {
            _sequencers.Remove(conversation);
        }
    }
}
