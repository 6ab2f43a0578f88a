using Orleans.Concurrency;
using Switchboard.Connections;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Groups;

/// <summary>
/// One per group (key: the group id). Owns the policy, the members and their roles, who may post and
/// read, the sequencer of the group's conversation, and the silos subscribed to its messages.
/// </summary>
[Alias("sb.IGroupGrain")]
public interface IGroupGrain : IGrainWithStringKey
{
    /// <summary>The group; <c>NotFound</c> when it does not exist.</summary>
    [ReadOnly, Alias("Get")]
    Task<GroupInfo> GetAsync();

    /// <summary>Creates the group (caller becomes owner; teachers and admins only) or changes its policy (owners and admins).</summary>
    /// <returns>True when the group was created.</returns>
    [Alias("Put")]
    Task<bool> PutAsync(Caller caller, GroupPolicy policy);

    /// <summary>Adds a member or changes its role (owners and admins).</summary>
    [Alias("SetMember")]
    Task SetMemberAsync(Caller caller, UserId user, GroupRole role);

    /// <summary>Removes a member (owners and admins, or the member itself); the last owner stays.</summary>
    [Alias("RemoveMember")]
    Task RemoveMemberAsync(Caller caller, UserId user);

    /// <summary>Joins as a member (open and announce groups; idempotent).</summary>
    [Alias("Join")]
    Task JoinAsync(Caller caller);

    /// <summary>Leaves (idempotent); the last owner cannot leave.</summary>
    [Alias("Leave")]
    Task LeaveAsync(Caller caller);

    /// <summary>Authorizes, sequences, stores and fans out a message (called by the sender's user grain after dedupe).</summary>
    [Alias("Post")]
    Task<StoredMessage> PostAsync(SendCommand command);

    /// <summary>Throws <c>Forbidden</c> unless the caller may read the group's conversation.</summary>
    [ReadOnly, Alias("AuthorizeRead")]
    Task AuthorizeReadAsync(Caller caller);

    /// <summary>The latest seq of the group's conversation (0 when empty).</summary>
    [ReadOnly, Alias("GetLatestSeq")]
    Task<long> GetLatestSeqAsync();

    /// <summary>
    /// Mutes <paramref name="user"/> until <paramref name="until"/> (null: until unmuted): their posts are refused.
    /// Owners and admins; an owner only by an admin.
    /// </summary>
    [Alias("Mute")]
    Task MuteAsync(Caller caller, UserId user, DateTimeOffset? until);

    /// <summary>Lifts a mute (owners and admins; idempotent).</summary>
    [Alias("Unmute")]
    Task UnmuteAsync(Caller caller, UserId user);

    /// <summary>
    /// Bans <paramref name="user"/>: removes their membership (their silos stop delivering the group before this
    /// returns) and refuses their join, post, read and resume whatever the policy. Owners and admins; an owner only by an admin.
    /// </summary>
    [Alias("Ban")]
    Task BanAsync(Caller caller, UserId user);

    /// <summary>Lifts a ban (owners and admins; idempotent); the user is not made a member again.</summary>
    [Alias("Unban")]
    Task UnbanAsync(Caller caller, UserId user);

    /// <summary>
    /// Erases message <paramref name="seq"/>'s body (its sender, or an owner or admin; idempotent) and tells the
    /// subscribed silos; <c>NotFound</c> for a seq never sent.
    /// </summary>
    [Alias("DeleteMessage")]
    Task DeleteMessageAsync(Caller caller, long seq);

    /// <summary>Subscribes a silo's sink to the group's messages until it expires; silos renew before then.</summary>
    // Interleaves: a join awaits the user grain, which awaits the silo's sink, which calls this; queued behind the join, each would wait on the other until a timeout.
    [AlwaysInterleave, Alias("Subscribe")]
    Task SubscribeAsync(SiloRoute route);

    /// <summary>Ends a silo's subscription (idempotent).</summary>
    // Interleaves for the same cycle as SubscribeAsync: a leave or removal waits, through the user grain, on the silo calling this.
    [AlwaysInterleave, Alias("Unsubscribe")]
    Task UnsubscribeAsync(SiloRoute route);

    /// <summary>
    /// Fans a <c>typing</c> frame out to the members' sockets on every subscribed silo, except the typist's own; dropped
    /// when the group does not exist or the caller may not post to it. Never stored.
    /// </summary>
    [OneWay, Alias("Typing")]
    Task TypingAsync(Caller caller, byte[] frame);
}
