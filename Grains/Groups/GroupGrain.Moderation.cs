using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Grains.Groups;

/// <summary>Moderation (protocol 1.1): mutes, bans and deleting messages.</summary>
internal sealed partial class GroupGrain
{
    /// <summary>
    /// Mutes and bans a group may hold together. They live in the group's own state (rewritten whole by each change),
    /// so they are capped: an owner cannot grow it without bound.
    /// </summary>
    internal const int MaxModerationEntries = 1000;

    public async Task MuteAsync(Caller caller, UserId user, DateTimeOffset? until)
    {
        EnsureExists();
        EnsureModerator(caller, user, "muted");
        var mutes = state.State.Mutes;
        if (mutes.TryGetValue(user.Value, out var current) && current == until)
        {
            return;
        }

        await UnderStateLockAsync(() =>
        {
            PruneExpiredMutes();
            if (!mutes.ContainsKey(user.Value))
            {
                EnsureRoomForModeration();
            }

            mutes[user.Value] = until;
            return WriteStateUnlockedAsync();
        });
        GroupLog.Muted(logger, Id.Value, user.Value, caller.User.Value);
    }

    public async Task UnmuteAsync(Caller caller, UserId user)
    {
        EnsureExists();
        EnsureManager(caller);
        if (!state.State.Mutes.ContainsKey(user.Value))
        {
            return;
        }

        await UnderStateLockAsync(() =>
        {
            state.State.Mutes.Remove(user.Value);
            PruneExpiredMutes();
            return WriteStateUnlockedAsync();
        });
    }

    public async Task BanAsync(Caller caller, UserId user)
    {
        EnsureExists();
        EnsureModerator(caller, user, "banned");
        if (_members.TryGetRole(user.Value, out var role) && role == GroupRole.Owner && _members.OwnerCount() == 1)
        {
            throw SwitchboardException.Forbidden("The last owner cannot be banned; make someone else an owner first.");
        }

        if (!state.State.Bans.Contains(user.Value))
        {
            await UnderStateLockAsync(() =>
            {
                PruneExpiredMutes();
                EnsureRoomForModeration();
                state.State.Bans.Add(user.Value);
                return WriteStateUnlockedAsync();
            });
            GroupLog.Banned(logger, Id.Value, user.Value, caller.User.Value);
        }

        // The ban is stored first: from here every join, post and read is refused. Then the membership goes, and the
        // user grain tells the user's silos to drop the group before this returns (a retried ban repeats only this).
        await RemoveAsync(user);
        await CutOffAsync(user);
    }

    /// <summary>
    /// Tells every silo this group delivers to that <paramref name="user"/> is out, and waits for each. The user grain
    /// did so already, but it lets a silo it could not reach catch up at its next renewal (a minute): for a ban that is
    /// too late, and these are exactly the silos this grain's fan-out reaches. Idempotent on the silos.
    /// </summary>
    private async Task CutOffAsync(UserId user)
    {
        _subscribers.RemoveExpired();
        var calls = _subscribers.Routes.Select(route => route.Sink.MembershipChangedAsync(user, Id, false)).ToArray();
        try
        {
            await Task.WhenAll(calls);
        }
        catch (Exception exception)
        {
            GroupLog.BanNotConfirmed(logger, Id.Value, user.Value, calls.Count(c => !c.IsCompletedSuccessfully), exception);
            throw SwitchboardException.Unavailable(
                $"{user} is banned from {Id}, but a node did not confirm it stopped delivering the group to them; retry the ban.");
        }
    }

    public async Task UnbanAsync(Caller caller, UserId user)
    {
        EnsureExists();
        EnsureManager(caller);
        if (!state.State.Bans.Contains(user.Value))
        {
            return;
        }

        await UnderStateLockAsync(() =>
        {
            state.State.Bans.Remove(user.Value);
            PruneExpiredMutes();
            return WriteStateUnlockedAsync();
        });
    }

    public async Task DeleteMessageAsync(Caller caller, long seq)
    {
        EnsureExists();
        var conversation = ConversationId.ForGroup(Id);
        var sender = seq < 1 ? null : await MessageLogCalls.GuardAsync(() => log.FindSenderAsync(conversation, seq));
        if (sender is null)
        {
            throw SwitchboardException.NotFound($"{conversation} has no message {seq}.");
        }

        if (sender != caller.User && !IsManager(caller))
        {
            throw SwitchboardException.Forbidden($"Only its sender, the owners and admins delete a message of {Id}.");
        }

        await MessageLogCalls.GuardAsync(() => log.EraseAsync(conversation, seq));
        GroupLog.MessageDeleted(logger, Id.Value, seq, caller.User.Value);

        // Through the same per-silo fan-out as messages: each silo writes the frame to its members' sockets.
        FanOut(new Delivery(conversation, seq, caller.User, Exclude: null, MessageFrame.SerializeDeleted(conversation, seq, caller.User)));
    }

    /// <summary>Refuses a banned user anything: join, post, read, resume, whatever the policy.</summary>
    private void EnsureNotBanned(UserId user)
    {
        if (state.State.Bans.Contains(user.Value))
        {
            throw SwitchboardException.Forbidden($"{user} is banned from {Id}.");
        }
    }

    /// <summary>Whether a mute of <paramref name="user"/> is in force now (an expired one no longer counts).</summary>
    private bool IsMuted(UserId user) =>
        state.State.Mutes.TryGetValue(user.Value, out var until) && (until is null || until.Value > time.GetUtcNow());

    /// <summary>Refuses a muted user's post, saying until when; an expired mute no longer counts (no timer per mute).</summary>
    private void EnsureNotMuted(UserId user)
    {
        if (!state.State.Mutes.TryGetValue(user.Value, out var until))
        {
            return;
        }

        if (until is null)
        {
            throw SwitchboardException.Forbidden($"{user} is muted in {Id} until unmuted.");
        }

        if (until.Value > time.GetUtcNow())
        {
            throw SwitchboardException.Forbidden($"{user} is muted in {Id} until {MessageFrame.FormatTimestamp(until.Value)}.");
        }
    }

    /// <summary>Owners and admins moderate; an owner is muted or banned only by an admin.</summary>
    private void EnsureModerator(Caller caller, UserId target, string what)
    {
        EnsureManager(caller);
        if (!caller.IsAdmin && _members.TryGetRole(target.Value, out var role) && role == GroupRole.Owner)
        {
            throw SwitchboardException.Forbidden($"Owners of {Id} can be {what} only by admins.");
        }
    }

    private bool IsManager(Caller caller) =>
        caller.IsAdmin || (_members.TryGetRole(caller.User.Value, out var role) && role == GroupRole.Owner);

    private void EnsureRoomForModeration()
    {
        if (state.State.Mutes.Count + state.State.Bans.Count >= MaxModerationEntries)
        {
            throw SwitchboardException.Forbidden($"{Id} already has {MaxModerationEntries} mutes and bans, the most a group may have; lift some first.");
        }
    }

    /// <summary>Drops mutes that ended: done on the next write, so an expired mute costs nothing until then.</summary>
    private void PruneExpiredMutes()
    {
        var now = time.GetUtcNow();
        foreach (var (user, until) in state.State.Mutes.ToArray())
        {
            if (until is not null && until.Value <= now)
            {
                state.State.Mutes.Remove(user);
            }
        }
    }

    private ImmutableArray<GroupMute> ActiveMutes()
    {
        var now = time.GetUtcNow();
        return [.. state.State.Mutes
            .Where(m => m.Value is null || m.Value.Value > now)
            .OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => new GroupMute(new UserId(m.Key), m.Value))];
    }

    private ImmutableArray<UserId> BannedUsers() =>
        [.. state.State.Bans.Order(StringComparer.Ordinal).Select(u => new UserId(u))];
}

internal static partial class GroupLog
{
    [LoggerMessage(EventId = 2020, Level = LogLevel.Information, Message = "Group {Group}: {User} muted by {By}")]
    public static partial void Muted(ILogger logger, string group, string user, string by);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Information, Message = "Group {Group}: {User} banned by {By}")]
    public static partial void Banned(ILogger logger, string group, string user, string by);

    [LoggerMessage(EventId = 2023, Level = LogLevel.Warning, Message = "Group {Group}: {Silos} silos did not confirm that banned user {User} is cut off; the ban is stored and its caller told to retry")]
    public static partial void BanNotConfirmed(ILogger logger, string group, string user, int silos, Exception exception);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Information, Message = "Group {Group}: message {Seq} deleted by {By}")]
    public static partial void MessageDeleted(ILogger logger, string group, long seq, string by);
}
