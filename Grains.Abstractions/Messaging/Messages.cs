using Switchboard.Conversations;
using Switchboard.Identity;

namespace Switchboard.Messaging;

/// <summary>A <c>send</c> as accepted at the edge: the sender comes from the token, never from the frame.</summary>
/// <param name="Sender">The token's user and role.</param>
/// <param name="RequestId">The client's id: one id space per user across sockets and REST.</param>
/// <param name="To">The recipient.</param>
/// <param name="Body">The body as raw UTF-8 JSON, validated at the edge.</param>
/// <param name="Origin">The sending connection (it gets the ack, not the message); null for REST.</param>
[GenerateSerializer, Immutable, Alias("sb.SendCommand")]
public sealed record SendCommand(
    [property: Id(0)] Caller Sender,
    [property: Id(1)] string RequestId,
    [property: Id(2)] Recipient To,
    [property: Id(3)] byte[] Body,
    [property: Id(4)] ConnectionId? Origin);

/// <summary>Where a stored message landed: what an <c>ack</c> carries.</summary>
[GenerateSerializer, Immutable, Alias("sb.SendReceipt")]
public sealed record SendReceipt(
    [property: Id(0)] ConversationId Conversation,
    [property: Id(1)] long Seq);

/// <summary>
/// A message as the log stores it and the <c>message</c> frame shows it. Once deleted, <c>Deleted</c> is true, the body
/// is empty and the frame shows <c>"body":null,"deleted":true</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("sb.StoredMessage")]
public sealed record StoredMessage(
    [property: Id(0)] ConversationId Conversation,
    [property: Id(1)] long Seq,
    [property: Id(2)] UserId From,
    [property: Id(3)] Recipient To,
    [property: Id(4)] string RequestId,
    [property: Id(5)] byte[] Body,
    [property: Id(6)] DateTimeOffset Timestamp,
    [property: Id(7)] bool Deleted = false);

/// <summary>
/// A message on its way to sockets: the <c>message</c> frame is serialized once, where it was sequenced,
/// and every silo writes the same bytes to its sockets.
/// </summary>
/// <param name="Conversation">The conversation.</param>
/// <param name="Seq">The message's seq.</param>
/// <param name="Sender">The sender.</param>
/// <param name="Exclude">The sending connection, which gets the ack instead.</param>
/// <param name="Frame">The complete UTF-8 <c>message</c> frame (or a <c>read</c> or <c>typing</c> frame: see <see cref="ReceiptFrames"/>).</param>
/// <param name="ExcludeUser">A user none of whose sockets get it (a group's <c>typing</c> skips the typist's own).</param>
[GenerateSerializer, Immutable, Alias("sb.Delivery")]
public sealed record Delivery(
    [property: Id(0)] ConversationId Conversation,
    [property: Id(1)] long Seq,
    [property: Id(2)] UserId Sender,
    [property: Id(3)] ConnectionId? Exclude,
    [property: Id(4)] byte[] Frame,
    [property: Id(5)] UserId? ExcludeUser = null);

/// <summary>One entry of a user's conversation list.</summary>
[GenerateSerializer, Immutable, Alias("sb.ConversationSummary")]
public sealed record ConversationSummary(
    [property: Id(0)] ConversationId Conversation,
    [property: Id(1)] long Seq,
    [property: Id(2)] long Read = 0);

/// <summary>A page of a conversation's log.</summary>
/// <param name="Messages">Messages with seq greater than the one asked, oldest first.</param>
/// <param name="Complete">False when retention dropped messages the reader asked for.</param>
/// <param name="More">True when more messages follow the last one returned.</param>
[GenerateSerializer, Immutable, Alias("sb.HistoryPage")]
public sealed record HistoryPage(
    [property: Id(0)] IReadOnlyList<StoredMessage> Messages,
    [property: Id(1)] bool Complete,
    [property: Id(2)] bool More);
