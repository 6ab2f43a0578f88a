using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Switchboard.Connections;
using Switchboard.Conversations;
using Switchboard.Grains.Connections;
using Switchboard.Grains.Conversations;
using Switchboard.Grains.Hosting;
using Switchboard.Grains.Limits;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Grains.Groups;

/// <summary>
/// A group: policy, members, authorization, the sequencer of its conversation and the silos subscribed to
/// it. A post costs one call per subscribed silo, whatever the number of members; each silo expands it to
/// its own sockets.
/// </summary>
[RandomPlacement]
internal sealed partial class GroupGrain(
    [PersistentState("group", StorageNames.Grains)] IPersistentState<GroupState> state,
    IMessageLog log,
    TimeProvider time,
    IOptions<RoutingOptions> options,
    IOptions<LimitOptions> limits,
    ISiloStatusOracle membership,
    ILogger<GroupGrain> logger) : Grain, IGroupGrain
{
    private readonly SiloRegistrations<SiloRegistration> _subscribers = new(time, membership, options.Value.RegistrationLifetime);

    // Subscribe and Unsubscribe interleave with other calls: state writes must not overlap, and the state is
    // only changed under this lock (a write in flight may be serializing it on another thread).
    private readonly SemaphoreSlim _stateWrite = new(1, 1);
    private ConversationSequencer? _sequencer;
    private TokenBucket? _posts;

    private GroupId Id => new(this.GetPrimaryKeyString());

    private ConversationSequencer Sequencer => _sequencer ??= new ConversationSequencer(ConversationId.ForGroup(Id), log, time);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Survivors of a crash keep their subscriptions; the dead are dropped (and rejoin by re-announcing).
        _subscribers.Restore(state.State.Subscribers);

        // A membership change whose user grain was not told before the last activation ended: tell it now.
        if (state.State.Unnotified.Count > 0)
        {
            ScheduleRetry(TimeSpan.Zero);
        }

        return Task.CompletedTask;
    }

    public Task<GroupInfo> GetAsync()
    {
        EnsureExists();
        var members = state.State.Members
            .OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => new GroupMember(new UserId(m.Key), m.Value))
            .ToImmutableArray();
        return Task.FromResult(new GroupInfo(Id, state.State.Policy, members));
    }

    public async Task<bool> PutAsync(Caller caller, GroupPolicy policy)
    {
        if (!state.State.Exists)
        {
            if (!caller.MayCreateGroups)
            {
                throw SwitchboardException.Forbidden("Only teachers and admins may create groups.");
            }

            await EnsureRoomForUserAsync(caller.User);
            state.State.Exists = true;
            state.State.Policy = policy;
            state.State.Members[caller.User.Value] = GroupRole.Owner;
            state.State.Unnotified.Add(caller.User.Value);
            await WriteStateAsync();
            await NotifyUserAsync(caller.User);
            return true;
        }

        EnsureManager(caller);
        if (state.State.Policy != policy)
        {
            state.State.Policy = policy;
            await WriteStateAsync();
        }

        return false;
    }

    public async Task SetMemberAsync(Caller caller, UserId user, GroupRole role)
    {
        EnsureExists();
        EnsureManager(caller);
        var members = state.State.Members;
        var existed = members.TryGetValue(user.Value, out var current);
        if (existed && current == GroupRole.Owner && role != GroupRole.Owner && OwnerCount() == 1)
        {
            throw SwitchboardException.Forbidden("The last owner cannot be demoted.");
        }

        if (!existed)
        {
            await EnsureRoomForMemberAsync(user);
        }

        if (!existed || current != role)
        {
            members[user.Value] = role;
            state.State.Unnotified.Add(user.Value);
            await WriteStateAsync();
        }

        // Also when nothing changed here: a retry after a failure must reach the user grain the first call missed.
        await NotifyUserAsync(user);
    }

    public async Task RemoveMemberAsync(Caller caller, UserId user)
    {
        EnsureExists();
        if (caller.User != user)
        {
            EnsureManager(caller);
        }

        await RemoveAsync(user);
    }

    public async Task JoinAsync(Caller caller)
    {
        EnsureExists();
        if (state.State.Policy == GroupPolicy.Members)
        {
            throw SwitchboardException.Forbidden($"Group {Id} admits members only through its owners.");
        }

        if (!state.State.Members.ContainsKey(caller.User.Value))
        {
            await EnsureRoomForMemberAsync(caller.User);
        }

        if (state.State.Members.TryAdd(caller.User.Value, GroupRole.Member))
        {
            state.State.Unnotified.Add(caller.User.Value);
            await WriteStateAsync();
        }

        // Idempotent, and repairs a user grain that missed the first notification.
        await NotifyUserAsync(caller.User);
    }

    public async Task LeaveAsync(Caller caller)
    {
        EnsureExists();
        await RemoveAsync(caller.User);
    }

    public async Task<StoredMessage> PostAsync(SendCommand command)
    {
        EnsureExists();
        var sender = command.Sender;
        var isMember = state.State.Members.TryGetValue(sender.User.Value, out var role);
        var allowed = state.State.Policy switch
        {
            GroupPolicy.Open => true,
            GroupPolicy.Members => isMember,
            GroupPolicy.Announce => (isMember && role == GroupRole.Owner) || sender.IsAdmin,
            _ => false,
        };
        if (!allowed)
        {
            throw SwitchboardException.Forbidden(state.State.Policy == GroupPolicy.Announce
                ? $"Only owners and admins post to {Id}."
                : $"Only members post to {Id}.");
        }

        var budget = _posts ??= new TokenBucket(limits.Value.PostsPerGroupPerSecond, limits.Value.PostsPerGroupBurst, time);
        if (!budget.TryTake())
        {
            throw new SwitchboardException(
                ProtocolError.RateLimited,
                $"{Id} takes at most {limits.Value.PostsPerGroupPerSecond:0.##} messages per second from all its posters; slow down.");
        }

        var message = await Sequencer.AppendAsync(command);
        FanOut(new Delivery(message.Conversation, message.Seq, message.From, command.Origin, MessageFrame.Serialize(message)));
        return message;
    }

    public Task AuthorizeReadAsync(Caller caller)
    {
        EnsureExists();
        if (!GroupReaders.MayRead(state.State.Policy, state.State.Members.ContainsKey(caller.User.Value)))
        {
            throw SwitchboardException.Forbidden($"Only members read {Id}.");
        }

        return Task.CompletedTask;
    }

    public async Task<long> GetLatestSeqAsync() => state.State.Exists ? await Sequencer.GetLatestSeqAsync() : 0;

    public async Task SubscribeAsync(SiloRoute route)
    {
        // Stored only when it changes what a reactivated grain would read back: never for a renewal.
        var known = _subscribers.Find(route.Silo)?.Route.Sink.Equals(route.Sink) == true;
        _subscribers.Register(route);
        if (!known)
        {
            await PersistSubscribersAsync();
        }
    }

    public async Task UnsubscribeAsync(SiloRoute route)
    {
        if (_subscribers.Remove(route.Silo))
        {
            await PersistSubscribersAsync();
        }
    }

    /// <summary>Best effort: a failed write only means a reactivated grain waits for the silos' re-announcements.</summary>
    private async Task PersistSubscribersAsync()
    {
        if (!state.State.Exists)
        {
            return;
        }

        try
        {
            await WriteStateAsync();
        }
        catch (SwitchboardException exception)
        {
            GroupLog.SubscribersNotPersisted(logger, Id.Value, exception);
        }
    }

    private void FanOut(Delivery delivery)
    {
        var expired = _subscribers.RemoveExpired();
        if (expired > 0)
        {
            GroupLog.SubscriptionsExpired(logger, Id.Value, expired);
        }

        foreach (var subscriber in _subscribers.All)
        {
            // One-way and one per silo: a slow or dead silo never holds up the sequencer.
            _ = subscriber.Route.Sink.DeliverToGroupAsync(Id, delivery);
        }
    }

    private async Task RemoveAsync(UserId user)
    {
        var members = state.State.Members;
        if (members.TryGetValue(user.Value, out var role))
        {
            if (role == GroupRole.Owner && OwnerCount() == 1)
            {
                throw SwitchboardException.Forbidden("The last owner cannot leave or be removed.");
            }

            members.Remove(user.Value);
            state.State.Unnotified.Add(user.Value);
            await WriteStateAsync();
        }

        // Also when the user was not a member: a retry after a failure must reach the user grain the first call missed.
        await NotifyUserAsync(user);
    }

    /// <summary>
    /// Tells the user grain the user's membership as it stands here. On success the user leaves the outbox; on failure
    /// it stays there, a retry is scheduled, and the caller gets the failure (its retry is safe: every call notifies).
    /// </summary>
    private async Task NotifyUserAsync(UserId user)
    {
        try
        {
            await GrainFactory.GetUserGrain(user).SetMembershipAsync(Id, state.State.Members.ContainsKey(user.Value));
            state.State.Unnotified.Remove(user.Value);
        }
        catch (Exception exception)
        {
            if (state.State.Unnotified.Add(user.Value))
            {
                // Not in the stored outbox (an unchanged membership): store it, so a deactivation does not forget it.
                await TryPersistOutboxAsync();
            }

            GroupLog.MemberNotNotified(logger, Id.Value, user.Value, exception);
            ScheduleRetry(FirstRetry);
            throw;
        }
    }

    /// <summary>The first retry of an unnotified user grain; then doubling up to the renewal period.</summary>
    internal static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);

    private IGrainTimer? _retryTimer;
    private TimeSpan _retryDelay;

    private void ScheduleRetry(TimeSpan dueTime)
    {
        if (_retryTimer is not null)
        {
            return;
        }

        _retryDelay = dueTime == TimeSpan.Zero ? FirstRetry : dueTime;

        // KeepAlive: an idle group must not deactivate with a user grain still untold.
        _retryTimer = this.RegisterGrainTimer(RetryNotificationsAsync, new GrainTimerCreationOptions
        {
            DueTime = dueTime,
            Period = Timeout.InfiniteTimeSpan,
            KeepAlive = true,
        });
    }

    private async Task RetryNotificationsAsync(CancellationToken cancellationToken)
    {
        _retryTimer?.Dispose();
        _retryTimer = null;
        var failed = 0;
        foreach (var user in state.State.Unnotified.ToArray())
        {
            try
            {
                await GrainFactory.GetUserGrain(new UserId(user)).SetMembershipAsync(Id, state.State.Members.ContainsKey(user));
                state.State.Unnotified.Remove(user);
            }
            catch (Exception exception)
            {
                failed++;
                GroupLog.MemberNotNotified(logger, Id.Value, user, exception);
            }
        }

        if (failed > 0)
        {
            var next = TimeSpan.FromTicks(Math.Min(_retryDelay.Ticks * 2, options.Value.RenewalPeriod.Ticks));
            ScheduleRetry(next);
            return;
        }

        // Every user grain knows: store the emptied outbox, so a reactivation does not tell them again.
        await TryPersistOutboxAsync();
    }

    /// <summary>Best effort: an outbox stored with more users than need it only costs idempotent notifications later.</summary>
    private async Task TryPersistOutboxAsync()
    {
        try
        {
            await WriteStateAsync();
        }
        catch (SwitchboardException)
        {
            // Logged by WriteStateAsync; the in-memory outbox still drives the retries of this activation.
        }
    }

    private async Task WriteStateAsync()
    {
        await _stateWrite.WaitAsync();
        try
        {
            state.State.Subscribers = [.. _subscribers.Routes];
            await state.WriteStateAsync();
        }
        catch (Exception exception) when (exception is not SwitchboardException)
        {
            GroupLog.StateWriteFailed(logger, Id.Value, exception);

            // The change lives only in memory now: put back what storage holds, or start afresh next call.
            try
            {
                await state.ReadStateAsync();
            }
            catch (Exception)
            {
                DeactivateOnIdle();
            }

            throw SwitchboardException.Unavailable("Group storage is unavailable; retry.", new Exception(exception.Message));
        }
        finally
        {
            _stateWrite.Release();
        }
    }

    /// <summary>Refuses a new member when the group is full, or the user is in as many groups as allowed.</summary>
    private async Task EnsureRoomForMemberAsync(UserId user)
    {
        var most = limits.Value.MaxMembersPerGroup;
        if (state.State.Members.Count >= most)
        {
            throw SwitchboardException.Forbidden($"Group {Id} is full: it has {most} members, the most a group may have.");
        }

        await EnsureRoomForUserAsync(user);
    }

    private async Task EnsureRoomForUserAsync(UserId user)
    {
        var most = limits.Value.MaxGroupsPerUser;
        if (await GrainFactory.GetUserGrain(user).GetGroupCountAsync() >= most)
        {
            throw SwitchboardException.Forbidden($"{user} is already in {most} groups, the most a user may belong to.");
        }
    }

    private int OwnerCount() => state.State.Members.Values.Count(r => r == GroupRole.Owner);

    private void EnsureExists()
    {
        if (!state.State.Exists)
        {
            // Asked about an id nobody created (a typo, or someone probing random ids): keep nothing in memory for it.
            DeactivateOnIdle();
            throw SwitchboardException.NotFound($"Group {Id} does not exist.");
        }
    }

    private void EnsureManager(Caller caller)
    {
        var isOwner = state.State.Members.TryGetValue(caller.User.Value, out var role) && role == GroupRole.Owner;
        if (!isOwner && !caller.IsAdmin)
        {
            throw SwitchboardException.Forbidden($"Only owners and admins manage {Id}.");
        }
    }
}

internal static partial class GroupLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Group {Group}: dropped {Count} silo subscriptions (silo dead or not renewed)")]
    public static partial void SubscriptionsExpired(ILogger logger, string group, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Group {Group}: the subscribed silos could not be saved; a reactivation waits for re-announcements")]
    public static partial void SubscribersNotPersisted(ILogger logger, string group, Exception exception);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Group {Group}: the grain of user {User} did not take a membership change; retrying")]
    public static partial void MemberNotNotified(ILogger logger, string group, string user, Exception exception);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Group {Group}: state write failed")]
    public static partial void StateWriteFailed(ILogger logger, string group, Exception exception);
}
