using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Switchboard.Connections;
using Switchboard.Conversations;
using Switchboard.Grains.Connections;
using Switchboard.Grains.Conversations;
using Switchboard.Grains.Hosting;
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
    ISiloStatusOracle membership,
    ILogger<GroupGrain> logger) : Grain, IGroupGrain
{
    private readonly SiloRegistrations<SiloRegistration> _subscribers = new(time, membership, options.Value.RegistrationLifetime);

    // Subscribe and Unsubscribe interleave with other calls: state writes must not overlap, and the state is
    // only changed under this lock (a write in flight may be serializing it on another thread).
    private readonly SemaphoreSlim _stateWrite = new(1, 1);
    private ConversationSequencer? _sequencer;

    private GroupId Id => new(this.GetPrimaryKeyString());

    private ConversationSequencer Sequencer => _sequencer ??= new ConversationSequencer(ConversationId.ForGroup(Id), log, time);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Survivors of a crash keep their subscriptions; the dead are dropped (and rejoin by re-announcing).
        _subscribers.Restore(state.State.Subscribers);
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

            state.State.Exists = true;
            state.State.Policy = policy;
            state.State.Members[caller.User.Value] = GroupRole.Owner;
            await WriteStateAsync();
            await NotifyUserAsync(caller.User, isMember: true);
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
        if (existed && current == role)
        {
            return;
        }

        if (existed && current == GroupRole.Owner && role != GroupRole.Owner && OwnerCount() == 1)
        {
            throw SwitchboardException.Forbidden("The last owner cannot be demoted.");
        }

        members[user.Value] = role;
        await WriteStateAsync();
        if (!existed)
        {
            await NotifyUserAsync(user, isMember: true);
        }
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

        if (state.State.Members.TryAdd(caller.User.Value, GroupRole.Member))
        {
            await WriteStateAsync();
        }

        // Idempotent, and repairs a user grain that missed the first notification.
        await NotifyUserAsync(caller.User, isMember: true);
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
        if (!members.TryGetValue(user.Value, out var role))
        {
            return;
        }

        if (role == GroupRole.Owner && OwnerCount() == 1)
        {
            throw SwitchboardException.Forbidden("The last owner cannot leave or be removed.");
        }

        members.Remove(user.Value);
        await WriteStateAsync();
        await NotifyUserAsync(user, isMember: false);
    }

    private Task NotifyUserAsync(UserId user, bool isMember) =>
        GrainFactory.GetUserGrain(user).SetMembershipAsync(Id, isMember);

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

    private int OwnerCount() => state.State.Members.Values.Count(r => r == GroupRole.Owner);

    private void EnsureExists()
    {
        if (!state.State.Exists)
        {
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

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Group {Group}: state write failed")]
    public static partial void StateWriteFailed(ILogger logger, string group, Exception exception);
}
