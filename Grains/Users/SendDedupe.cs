using Switchboard.Messaging;

namespace Switchboard.Grains.Users;

/// <summary>
/// The send ids a user grain remembers: every id of the dedupe window while they fit in
/// <c>capacity</c>. Once older ids had to be evicted early, <see cref="IsComplete"/> turns false and
/// a miss must be checked against the log.
/// </summary>
internal sealed class SendDedupe(TimeSpan window, int capacity)
{
    private readonly Dictionary<string, SendReceipt> _receipts = new(StringComparer.Ordinal);
    private readonly Queue<(string RequestId, DateTimeOffset Timestamp)> _order = new();

    /// <summary>True while no id younger than the window has been evicted.</summary>
    public bool IsComplete { get; private set; } = true;

    public int Count => _receipts.Count;

    public bool TryGet(string requestId, out SendReceipt receipt) => _receipts.TryGetValue(requestId, out receipt!);

    public void Add(string requestId, SendReceipt receipt, DateTimeOffset timestamp)
    {
        if (!_receipts.TryAdd(requestId, receipt))
        {
            return;
        }

        _order.Enqueue((requestId, timestamp));
        Trim(timestamp);
    }

    /// <summary>Marks the memory as partial: ids older than what it holds may exist in the log.</summary>
    public void MarkIncomplete() => IsComplete = false;

    private void Trim(DateTimeOffset now)
    {
        var horizon = now - window;
        while (_order.TryPeek(out var oldest) && (oldest.Timestamp < horizon || _order.Count > capacity))
        {
            if (oldest.Timestamp >= horizon)
            {
                IsComplete = false;
            }

            _order.Dequeue();
            _receipts.Remove(oldest.RequestId);
        }
    }
}
