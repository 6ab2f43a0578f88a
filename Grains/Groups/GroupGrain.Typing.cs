using Switchboard.Conversations;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Grains.Groups;

/// <summary><c>typing</c> in a group: the same per-silo fan-out as a post, nothing stored, nothing sequenced.</summary>
internal sealed partial class GroupGrain
{
    public Task TypingAsync(Caller caller, byte[] frame)
    {
        // Dropped silently: a typing notice has no reply, and an unknown group must not keep an activation.
        if (!state.State.Exists)
        {
            DeactivateOnIdle();
            return Task.CompletedTask;
        }

        if (MayPost(caller))
        {
            FanOut(new Delivery(ConversationId.ForGroup(Id), 0, caller.User, null, frame, ExcludeUser: caller.User));
        }

        return Task.CompletedTask;
    }

    /// <summary>Who may post now: not banned, not muted, and the group's policy lets them (<see cref="PostAsync"/> says why not).</summary>
    private bool MayPost(Caller sender) =>
        !state.State.Bans.Contains(sender.User.Value) && !IsMuted(sender.User) && PolicyLetsPost(sender);

    /// <summary>The group's policy alone: anyone in an open group, members in a members group, owners and admins in an announce group.</summary>
    private bool PolicyLetsPost(Caller sender)
    {
        var isMember = _members.TryGetRole(sender.User.Value, out var role);
        return state.State.Policy switch
        {
            GroupPolicy.Open => true,
            GroupPolicy.Members => isMember,
            GroupPolicy.Announce => (isMember && role == GroupRole.Owner) || sender.IsAdmin,
            _ => false,
        };
    }
}
