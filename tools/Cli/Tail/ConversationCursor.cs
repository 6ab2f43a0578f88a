namespace Switchboard.Cli.Tail;

/// <summary>What became of a message frame offered to the cursor.</summary>
public enum Offer
{
    /// <summary>The next seq of its conversation: it (and any held frames that now follow on) are ready to print.</summary>
    Accept,

    /// <summary>Already printed or already held (a live frame and a replay of the same message): dropped.</summary>
    Duplicate,

    /// <summary>Seqs are missing before it: held (or, past the hold limit, dropped) until a resume fills the gap.</summary>
    Gap,
}

/// <summary>
/// The last seq printed per conversation, so a tail prints each message once and in order across reconnects and
/// replays (docs/protocol.md: keep by conversation and seq, drop what you hold, resume on a gap). Frames that arrive
/// after a gap are held, up to a limit over all conversations, so a gap that no replay can fill (retention deleted
/// those messages) costs only the missing ones.
/// </summary>
public sealed class ConversationCursor<T>(int holdLimit = ConversationCursor<T>.DefaultHoldLimit)
{
    /// <summary>As many as one resume replays per conversation by default: enough to ride out one gap.</summary>
    public const int DefaultHoldLimit = 1000;

    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedList<long, T>> _held = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _highestDropped = new(StringComparer.Ordinal);
    private int _heldCount;

    public int HeldCount => _heldCount;

    public long Last(string conversation) => _last.GetValueOrDefault(conversation);

    /// <summary>Starts (or restarts) a conversation at <paramref name="seq"/>: messages after it will be printed.</summary>
    public void Start(string conversation, long seq) => _last[conversation] = seq;

    /// <summary>
    /// Offers one message; what is ready to print, in order, is added to <paramref name="ready"/>. A conversation not
    /// started yet is read from its first message (it appeared after the tail's start line, so all of it is new).
    /// </summary>
    public Offer Offer(string conversation, long seq, T item, List<T> ready)
    {
        var last = _last.GetValueOrDefault(conversation);
        _last.TryAdd(conversation, 0);
        if (seq <= last || (_held.TryGetValue(conversation, out var held) && held.ContainsKey(seq)))
        {
            return Tail.Offer.Duplicate;
        }

        if (seq == last + 1)
        {
            ready.Add(item);
            _last[conversation] = seq;
            Release(conversation, ready);
            return Tail.Offer.Accept;
        }

        if (_heldCount < holdLimit)
        {
            if (held is null)
            {
                _held[conversation] = held = [];
            }

            held.Add(seq, item);
            _heldCount++;
        }
        else
        {
            _highestDropped[conversation] = Math.Max(seq, _highestDropped.GetValueOrDefault(conversation));
        }

        return Tail.Offer.Gap;
    }

    /// <summary>Whether seqs are missing before frames it holds or dropped: a resume from <see cref="Last"/> is due.</summary>
    public bool Behind(string conversation) =>
        (_held.TryGetValue(conversation, out var held) && held.Count > 0) || _highestDropped.GetValueOrDefault(conversation) > Last(conversation);

    /// <summary>
    /// Gives up on the missing seqs before the first held frame (no replay brings them: deleted by retention) and
    /// releases what follows; returns the seqs skipped, or null when nothing is held.
    /// </summary>
    public (long From, long To)? SkipGap(string conversation, List<T> ready)
    {
        if (!_held.TryGetValue(conversation, out var held) || held.Count == 0)
        {
            return null;
        }

        var skipped = (Last(conversation) + 1, held.Keys[0] - 1);
        _last[conversation] = held.Keys[0] - 1;
        Release(conversation, ready);
        return skipped;
    }

    /// <summary>After a replaced history (a new epoch): every conversation is read again from its start.</summary>
    public void Rewind()
    {
        foreach (var conversation in _last.Keys.ToList())
        {
            _last[conversation] = 0;
        }

        _held.Clear();
        _highestDropped.Clear();
        _heldCount = 0;
    }

    private void Release(string conversation, List<T> ready)
    {
        if (!_held.TryGetValue(conversation, out var held))
        {
            return;
        }

        var last = _last[conversation];
        while (held.Count > 0 && held.Keys[0] <= last + 1)
        {
            if (held.Keys[0] == last + 1)
            {
                ready.Add(held.Values[0]);
                last++;
            }

            held.RemoveAt(0);
            _heldCount--;
        }

        _last[conversation] = last;
        if (held.Count == 0)
        {
            _held.Remove(conversation);
        }
    }
}
