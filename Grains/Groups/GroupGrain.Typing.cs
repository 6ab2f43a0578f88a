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

    /// <summary>Who may post now, by the group's policy, bans and mutes (as <see cref="PostAsync"/> decides it).</summary>
    private bool MayPost(Caller sender)
    {
        if (state.State.Bans.Contains(sender.User.Value) || IsMuted(sender.User))
        {
            return false;
        }

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
