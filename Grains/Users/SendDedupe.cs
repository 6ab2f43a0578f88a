using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Switchboard.Grains.Users;

/// <summary>
/// The send ids a user grain has stored, within the dedupe window and up to <c>capacity</c>, as 64-bit hashes: a
/// retry is recognised without a failed insert, and its receipt is then read from the log by (sender, request id),
/// which also settles the rare hash that matches a new id. A miss is not proof of a new id: the log's unique
/// (sender, request id) is.
/// </summary>
/// <remarks>
/// Only value types: nothing a message leaves here is an object the GC has to promote and later sweep from gen2
/// (a string, a receipt and two collection entries per message did, about 200 KB per user at the cap).
/// </remarks>
internal sealed class SendDedupe(TimeSpan window, int capacity)
{
    private readonly HashSet<ulong> _ids = [];
    private readonly Queue<(ulong Id, long Ticks)> _order = new();

    public int Count => _ids.Count;

    /// <summary>True when <paramref name="requestId"/> (or, about once in 10^16 sends at the cap, another id with its hash) was stored.</summary>
    public bool MayContain(string requestId) => _ids.Contains(Hash(requestId));

    public void Add(string requestId, DateTimeOffset timestamp)
    {
        var id = Hash(requestId);
        if (!_ids.Add(id))
        {
            return;
        }

        _order.Enqueue((id, timestamp.UtcTicks));
        var horizon = (timestamp - window).UtcTicks;
        while (_order.TryPeek(out var oldest) && (oldest.Ticks < horizon || _order.Count > capacity))
        {
            _order.Dequeue();
            _ids.Remove(oldest.Id);
        }
    }

    private static ulong Hash(string requestId) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(requestId.AsSpan()));
}
