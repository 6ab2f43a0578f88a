using Switchboard.Conversations;
using Switchboard.Identity;

namespace Switchboard.Grains.Conversations;

/// <summary>
/// Read markers: per user and conversation, the seq the user has read up to. Markers only move forward. The log's
/// own appends move the sender's marker to each message's seq in the same write (nobody has unread messages of their
/// own), so a send costs no marker write of its own. Implemented by the message logs beside <see cref="IMessageLog"/>.
/// </summary>
public interface IReadMarkers
{
    /// <summary>
    /// Moves the user's marker to <paramref name="seq"/> unless it is already there or beyond. Completes once stored
    /// as durably as an append (on MariaDB it joins the log's group commit).
    /// </summary>
    ValueTask MarkReadAsync(UserId user, ConversationId conversation, long seq, CancellationToken cancellationToken = default);

    /// <summary>The user's marker in a conversation, 0 when none.</summary>
    ValueTask<long> GetReadAsync(UserId user, ConversationId conversation, CancellationToken cancellationToken = default);

    /// <summary>Every marker of the user (conversations without one are absent).</summary>
    ValueTask<IReadOnlyDictionary<ConversationId, long>> GetReadMarkersAsync(UserId user, CancellationToken cancellationToken = default);

    /// <summary>The users whose marker in <paramref name="conversation"/> is at least <paramref name="seq"/>, in no particular order.</summary>
    ValueTask<IReadOnlyList<UserId>> GetReadersAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default);
}
