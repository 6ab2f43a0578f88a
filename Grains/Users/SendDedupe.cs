using Switchboard.Messaging;

namespace Switchboard.Grains.Users;

/// <summary>
/// The send ids a user grain remembers, within the dedupe window and up to <c>capacity</c>: a retry answered
/// from memory. A miss is not proof of a new id: the log's unique (sender, request id) is.
/// </summary>
internal sealed class SendDedupe(TimeSpan window, int capacity)
{
    private readonly Dictionary<string, SendReceipt> _receipts = new(StringComparer.Ordinal);
    private readonly Queue<(string RequestId, DateTimeOffset Timestamp)> _order = new();

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

    private void Trim(DateTimeOffset now)
    {
        var horizon = now - window;
        while (_order.TryPeek(out var oldest) && (oldest.Timestamp < horizon || _order.Count > capacity))
        {
            _order.Dequeue();
            _receipts.Remove(oldest.RequestId);
        }
    }
}
