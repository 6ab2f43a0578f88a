using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Storage;
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
    private GroupMembership _members = null!;

    private GroupId Id => new(this.GetPrimaryKeyString());

    private ConversationSequencer Sequencer => _sequencer ??= new ConversationSequencer(ConversationId.ForGroup(Id), log, time);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Survivors of a crash keep their subscriptions; the dead are dropped (and rejoin by re-announcing).
        _subscribers.Restore(state.State.Subscribers);

        _members = new GroupMembership(
            state,
            ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Grains),
            this.GetGrainId(),
            WriteStateUnlockedAsync,
            DeactivateOnIdle,
            logger);
        await _members.LoadAsync();

        // A membership change whose user grain was not told before the last activation ended: tell it now.
        if (_members.AnyUnnotified)
        {
            ScheduleRetry(TimeSpan.Zero);
        }
    }

    public Task<GroupInfo> GetAsync()
    {
        EnsureExists();
        var members = _members.All
            .OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => new GroupMember(new UserId(m.Key), m.Value))
            .ToImmutableArray();
        return Task.FromResult(new GroupInfo(Id, state.State.Policy, members, ActiveMutes(), BannedUsers()));
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
            await UnderStateLockAsync(() =>
            {
                state.State.Exists = true;
                state.State.Policy = policy;
                return _members.ChangeAsync(caller.User.Value, GroupRole.Owner);
            });
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
        EnsureNotBanned(user);
        var existed = _members.TryGetRole(user.Value, out var current);
        if (existed && current == GroupRole.Owner && role != GroupRole.Owner && _members.OwnerCount() == 1)
        {
            throw SwitchboardException.Forbidden("The last owner cannot be demoted.");
        }

        if (!existed)
        {
            await EnsureRoomForMemberAsync(user);
        }

        if (!existed || current != role)
        {
            await UnderStateLockAsync(() => _members.ChangeAsync(user.Value, role));
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
        EnsureNotBanned(caller.User);
        if (state.State.Policy == GroupPolicy.Members)
        {
            throw SwitchboardException.Forbidden($"Group {Id} admits members only through its owners.");
        }

        if (!_members.Contains(caller.User.Value))
        {
            await EnsureRoomForMemberAsync(caller.User);
            await UnderStateLockAsync(() => _members.ChangeAsync(caller.User.Value, GroupRole.Member));
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
        EnsureNotBanned(sender.User);
        EnsureNotMuted(sender.User);
        if (!PolicyLetsPost(sender))
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
        EnsureNotBanned(caller.User);
        if (!GroupReaders.MayRead(state.State.Policy, _members.Contains(caller.User.Value)))
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
        if (_members.TryGetRole(user.Value, out var role))
        {
            if (role == GroupRole.Owner && _members.OwnerCount() == 1)
            {
                throw SwitchboardException.Forbidden("The last owner cannot leave or be removed.");
            }

            await UnderStateLockAsync(() => _members.ChangeAsync(user.Value, null));
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
            await GrainFactory.GetUserGrain(user).SetMembershipAsync(Id, _members.Contains(user.Value));
            _members.MarkNotified(user.Value);
        }
        catch (Exception exception)
        {
            if (_members.AddToOutbox(user.Value))
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
        foreach (var user in _members.Unnotified())
        {
            try
            {
                await GrainFactory.GetUserGrain(new UserId(user)).SetMembershipAsync(Id, _members.Contains(user));
                _members.MarkNotified(user);
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
            await UnderStateLockAsync(_members.StoreOutboxAsync);
        }
        catch (SwitchboardException)
        {
            // Logged where the write failed; the in-memory outbox still drives the retries of this activation.
        }
    }

    private Task WriteStateAsync() => UnderStateLockAsync(WriteStateUnlockedAsync);

    private async Task UnderStateLockAsync(Func<Task> change)
    {
        await _stateWrite.WaitAsync();
        try
        {
            await change();
        }
        finally
        {
            _stateWrite.Release();
        }
    }

    /// <summary>Writes the group's own state; the caller holds the state lock.</summary>
    private async Task WriteStateUnlockedAsync()
    {
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
    }

    /// <summary>Refuses a new member when the group is full, or the user is in as many groups as allowed.</summary>
    private async Task EnsureRoomForMemberAsync(UserId user)
    {
        var most = limits.Value.MaxMembersPerGroup;
        if (_members.Count >= most)
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
        var isOwner = _members.TryGetRole(caller.User.Value, out var role) && role == GroupRole.Owner;
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

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Group {Group}: {Members} members spread over {Buckets} storage buckets")]
    public static partial void MembersSpread(ILogger logger, string group, int members, int buckets);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Group {Group}: a bucket of an old member layout could not be cleared (unused; it only takes space)")]
    public static partial void OldBucketNotCleared(ILogger logger, string group, Exception exception);
}
