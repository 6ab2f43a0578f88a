using System.Collections.Immutable;
using Orleans.Concurrency;
using Switchboard.Connections;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Users;

/// <summary>
/// One per user (key: the user id). Owns the user's live connections on every silo, presence, group
/// memberships, the dedupe of the user's send ids, and the sequence of the direct conversations it owns.
/// </summary>
[Alias("sb.IUserGrain")]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>
    /// Registers a connection held by the silo of <paramref name="route"/>. Refused with
    /// <c>RateLimited</c> when the user is at the per-user connection cap.
    /// </summary>
    /// <returns>The user's groups, for the silo's group index.</returns>
    [Alias("Attach")]
    Task<ImmutableArray<GroupId>> AttachAsync(SiloRoute route, ConnectionId connection, int maxConnections);

    /// <summary>Removes a connection (idempotent).</summary>
    [Alias("Detach")]
    Task DetachAsync(SiloRoute route, ConnectionId connection);

    /// <summary>
    /// Re-announces every connection the silo of <paramref name="route"/> holds for this user, replacing
    /// what the grain knew of that silo. Silos call it before their registration expires.
    /// </summary>
    /// <returns>The user's groups, so the silo can reconcile its group index.</returns>
    [Alias("Renew")]
    Task<ImmutableArray<GroupId>> RenewAsync(SiloRoute route, ImmutableArray<ConnectionId> connections);

    /// <summary>Sends a message as this user: dedupes the id, authorizes, sequences, stores, then fans out.</summary>
    [Alias("Send")]
    Task<SendReceipt> SendAsync(SendCommand command);

    /// <summary>
    /// Sequences, stores and delivers a direct message to this user from the other participant's grain, when
    /// this user's grain owns the conversation. Refused with <c>BadRequest</c> otherwise.
    /// </summary>
    [Alias("AppendDirect")]
    Task<StoredMessage> AppendDirectAsync(SendCommand command);

    /// <summary>Writes a message to this user's sockets on every silo (one call per silo).</summary>
    [OneWay, Alias("Deliver")]
    Task DeliverAsync(Delivery delivery);

    /// <summary>The user's presence.</summary>
    [ReadOnly, Alias("GetPresence")]
    Task<Presence> GetPresenceAsync();

    /// <summary>The user's conversations with their latest seq, groups without messages at 0.</summary>
    [Alias("GetConversations")]
    Task<ImmutableArray<ConversationSummary>> GetConversationsAsync();

    /// <summary>The groups the user is a member of.</summary>
    [ReadOnly, Alias("GetGroups")]
    Task<ImmutableArray<GroupId>> GetGroupsAsync();

    /// <summary>How many groups the user is a member of (a group checks it before adding the user).</summary>
    [ReadOnly, Alias("GetGroupCount")]
    Task<int> GetGroupCountAsync();

    /// <summary>Called by a group grain when the user's membership changes; tells the silos holding the user's sockets.</summary>
    [Alias("SetMembership")]
    Task SetMembershipAsync(GroupId group, bool isMember);

    /// <summary>
    /// <c>read</c>: moves this user's marker in <paramref name="conversation"/> forward to <paramref name="seq"/>, stored
    /// before it returns, and tells the user's other connections (and, in a direct conversation, the other
    /// participant's). A seq at or below the stored marker changes nothing. <c>Forbidden</c> when the user may not read
    /// the conversation, <c>BadRequest</c> when <paramref name="seq"/> is past its latest message.
    /// </summary>
    /// <returns>The stored marker.</returns>
    [Alias("MarkRead")]
    Task<long> MarkReadAsync(Caller caller, ConversationId conversation, long seq, ConnectionId? origin);

    /// <summary>
    /// <c>typing</c>: forwards a typing notice to the conversation's other participants, at most one per conversation
    /// every 2 seconds (the rest are dropped); dropped too when the user may not post there. Never stored.
    /// </summary>
    [OneWay, Alias("Typing")]
    Task TypingAsync(Caller caller, ConversationId conversation);
}

/// <summary>A user's presence.</summary>
[GenerateSerializer, Immutable, Alias("sb.Presence")]
public sealed record Presence(
    [property: Id(0)] UserId User,
    [property: Id(1)] bool Online,
    [property: Id(2)] int Connections);
