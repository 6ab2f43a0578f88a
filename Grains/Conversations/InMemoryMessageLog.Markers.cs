using System.Collections.Concurrent;
using Switchboard.Conversations;
using Switchboard.Identity;

namespace Switchboard.Grains.Conversations;

/// <summary>The in-memory log's read markers: by conversation, so receipts read one dictionary, and by user for lists.</summary>
public sealed partial class InMemoryMessageLog : IReadMarkers
{
    private readonly ConcurrentDictionary<ConversationId, ConcurrentDictionary<UserId, long>> _markers = new();
    private readonly ConcurrentDictionary<UserId, ConcurrentDictionary<ConversationId, byte>> _markedByUser = new();

    public ValueTask MarkReadAsync(UserId user, ConversationId conversation, long seq, CancellationToken cancellationToken = default)
    {
        MoveMarker(user, conversation, seq);
        return ValueTask.CompletedTask;
    }

    public ValueTask<long> GetReadAsync(UserId user, ConversationId conversation, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_markers.TryGetValue(conversation, out var byUser) && byUser.TryGetValue(user, out var seq) ? seq : 0);

    public ValueTask<IReadOnlyDictionary<ConversationId, long>> GetReadMarkersAsync(UserId user, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<ConversationId, long>();
        if (_markedByUser.TryGetValue(user, out var conversations))
        {
            foreach (var conversation in conversations.Keys)
            {
                if (_markers.TryGetValue(conversation, out var byUser) && byUser.TryGetValue(user, out var seq))
                {
                    result[conversation] = seq;
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyDictionary<ConversationId, long>>(result);
    }

    public ValueTask<IReadOnlyList<UserId>> GetReadersAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<UserId> readers = _markers.TryGetValue(conversation, out var byUser)
            ? [.. byUser.Where(m => m.Value >= seq).Select(m => m.Key)]
            : [];
        return ValueTask.FromResult(readers);
    }

    private void MoveMarker(UserId user, ConversationId conversation, long seq)
    {
        // Forward only, as MariaDB's GREATEST(): a late or repeated marker never moves one back.
        _markers.GetOrAdd(conversation, static _ => new()).AddOrUpdate(user, seq, (_, stored) => Math.Max(stored, seq));
        _markedByUser.GetOrAdd(user, static _ => new())[conversation] = 0;
    }
}
