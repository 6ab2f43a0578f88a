namespace Switchboard.Cli.Tail;

/// <summary>What to do with a message frame, by its (conversation, seq).</summary>
public enum Offer
{
    /// <summary>The next seq of its conversation: print it.</summary>
    Accept,

    /// <summary>Already printed (a live frame and a replay of the same message): drop it.</summary>
    Duplicate,

    /// <summary>Seqs are missing before it: drop it and resume from <see cref="ConversationCursor.Last"/>, which replays it too.</summary>
    Gap,
}

/// <summary>
/// The last seq printed per conversation, so a tail prints each message once and in order across reconnects and
/// replays (docs/protocol.md: keep by conversation and seq, drop what you hold, resume on a gap).
/// </summary>
public sealed class ConversationCursor
{
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _highestDropped = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, long> Positions => _last;

    public long Last(string conversation) => _last.GetValueOrDefault(conversation);

    /// <summary>Starts (or restarts) a conversation at <paramref name="seq"/>: messages after it will be printed.</summary>
    public void Start(string conversation, long seq) => _last[conversation] = seq;

    /// <summary>
    /// Decides about one message. A conversation not started yet is read from its first message (it appeared after the
    /// tail's start line, so every message of it is new to the tail).
    /// </summary>
    public Offer Offer(string conversation, long seq)
    {
        var last = _last.GetValueOrDefault(conversation);
        _last.TryAdd(conversation, 0);
        if (seq <= last)
        {
            return Tail.Offer.Duplicate;
        }

        if (seq == last + 1)
        {
            _last[conversation] = seq;
            return Tail.Offer.Accept;
        }

        _highestDropped[conversation] = Math.Max(seq, _highestDropped.GetValueOrDefault(conversation));
        return Tail.Offer.Gap;
    }

    /// <summary>Whether a message was dropped on a gap that the replays since have not reached yet.</summary>
    public bool StillBehind(string conversation) =>
        _highestDropped.TryGetValue(conversation, out var dropped) && dropped > Last(conversation);

    /// <summary>After a replaced history (a new epoch): every conversation is read again from the start.</summary>
    public void Rewind()
    {
        foreach (var conversation in _last.Keys.ToList())
        {
            _last[conversation] = 0;
        }

        _highestDropped.Clear();
    }
}
