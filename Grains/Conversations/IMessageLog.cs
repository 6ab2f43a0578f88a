using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Grains.Conversations;

/// <summary>
/// The append-only log of every conversation, plus the two indexes docs/protocol.md needs: each sender's
/// request ids (dedupe that outlives a grain) and each user's direct conversations. A completed
/// <see cref="AppendAsync"/> means durable: only then is the sender acked.
/// </summary>
public interface IMessageLog
{
    /// <summary>
    /// Stores a sequenced message; indexes the sender's request id and, for direct messages, both participants.
    /// Throws <see cref="DuplicateRequestException"/>, storing nothing, when the sender's request id is already stored.
    /// </summary>
    ValueTask AppendAsync(StoredMessage message, CancellationToken cancellationToken = default);

    /// <summary>The latest seq of a conversation, 0 when it has none.</summary>
    ValueTask<long> GetLatestSeqAsync(ConversationId conversation, CancellationToken cancellationToken = default);

    /// <summary>
    /// Messages with seq greater than <paramref name="after"/>, oldest first, at most <paramref name="limit"/>, and
    /// bodies of at most <paramref name="maxBytes"/> in all: the page stops before the message that would exceed it
    /// (with <see cref="HistoryPage.More"/> set), except that its first message always comes, so a reader that
    /// continues from the last seq it got always advances.
    /// </summary>
    ValueTask<HistoryPage> ReadAsync(ConversationId conversation, long after, int limit, long maxBytes, CancellationToken cancellationToken = default);

    /// <summary>Where a sender's request id was stored, if it was.</summary>
    ValueTask<SendReceipt?> FindRequestAsync(UserId sender, string requestId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The user's direct conversations (those with at least one message) with their latest seq, or null when there
    /// are more than <paramref name="limit"/>.
    /// </summary>
    ValueTask<IReadOnlyList<ConversationSummary>?> ListDirectConversationsAsync(UserId user, int limit, CancellationToken cancellationToken = default);

    /// <summary>The sender of message <paramref name="seq"/> (erased or not), or null when the log has no such message.</summary>
    ValueTask<UserId?> FindSenderAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default);

    /// <summary>
    /// Erases the body of message <paramref name="seq"/> from storage and marks it deleted; it keeps its seq, sender and
    /// time. Idempotent; false when the log has no such message.
    /// </summary>
    ValueTask<bool> EraseAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default);

    /// <summary>The user's direct conversations plus the given group conversations, each with its latest seq (0 when empty).</summary>
    ValueTask<IReadOnlyList<ConversationSummary>> ListConversationsAsync(UserId user, IReadOnlyCollection<ConversationId> groups, CancellationToken cancellationToken = default);
}
