using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Placement;
using Switchboard.Connections;
using Switchboard.Conversations;
using Switchboard.Grains.Connections;
using Switchboard.Grains.Conversations;
using Switchboard.Grains.Hosting;
using Switchboard.Grains.Limits;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Users;

namespace Switchboard.Grains.Users;

/// <summary>
/// A user: where its sockets are (by silo), presence, memberships, the dedupe of its send ids before
/// anything is routed, and the sequencing of the direct conversations it owns (half of its own, on
/// average). Reentrant so that one slow send never holds up the user's other sends or the deliveries to
/// its sockets; every state change below happens between awaits, so turns cannot tear it.
/// Placed where it is first called, which is usually the silo holding the user's first socket.
/// </summary>
[Reentrant]
[PreferLocalPlacement]
internal sealed partial class UserGrain(
    [PersistentState("user", StorageNames.Grains)] IPersistentState<UserState> state,
    IMessageLog log,
    ConversationListLoads listLoads,
    TimeProvider time,
    IOptions<RoutingOptions> options,
    IOptions<LimitOptions> limits,
    ISiloStatusOracle membership,
    ILogger<UserGrain> logger) : Grain, IUserGrain
{
    // The silos holding the user's sockets, mostly one with one connection: arrays, not a dictionary of sets (every
    // online user keeps these).
    private readonly SiloRegistrations<SiloConnections> _silos = new(time, membership, options.Value.RegistrationLifetime);

    // Made on first use: most users online are idle, and every one of them keeps an activation (turns never
    // overlap, reentrant or not, so ??= is safe).
    private Dictionary<string, Task<SendReceipt>>? _inFlight;

    // The grain is reentrant: state writes must not overlap, or the second would carry a stale version.
    private SemaphoreSlim? _stateWrite;
    private SendDedupe? _dedupe;

    // The user's send budget over all its sockets and REST: every send of the user passes this one activation.
    private TokenBucket? _sends;
    private DirectConversations? _directConversations;

    // Resolved on first delivery; null where the silo hosts no sockets (a grain-only test cluster).
    private ILocalConnectionSink? _localSink;
    private bool _localSinkResolved;
    private UserId? _id;

    private UserId Id => _id ??= new(this.GetPrimaryKeyString());

    private ILocalConnectionSink? LocalSink
    {
        get
        {
            if (!_localSinkResolved)
            {
                _localSink = ServiceProvider.GetService<ILocalConnectionSink>();
                _localSinkResolved = true;
            }

            return _localSink;
        }
    }

    public Task<ImmutableArray<GroupId>> AttachAsync(SiloRoute route, ConnectionId connection, int maxConnections)
    {
        RemoveExpired();
        if (maxConnections > 0 && CountConnections() >= maxConnections)
        {
            throw new SwitchboardException(ProtocolError.RateLimited, $"User {Id} already has {maxConnections} connections.");
        }

        var silo = _silos.Register(route);
        if (Array.IndexOf(silo.Connections, connection) < 0)
        {
            silo.Connections = [.. silo.Connections, connection];
        }

        // A connected user sends soon: its list of conversations is read now, not in front of its first send.
        (_directConversations ??= new DirectConversations(Id, log, time, listLoads)).Prefetch();
        return Task.FromResult(Groups());
    }

    public Task DetachAsync(SiloRoute route, ConnectionId connection)
    {
        var silo = _silos.Find(route.Silo);
        if (silo is not null)
        {
            silo.Connections = Array.FindAll(silo.Connections, c => c != connection);
            if (silo.Connections.Length == 0)
            {
                _silos.Remove(route.Silo);
            }
        }

        return Task.CompletedTask;
    }

    public Task<ImmutableArray<GroupId>> RenewAsync(SiloRoute route, ImmutableArray<ConnectionId> connections)
    {
        if (connections.IsDefaultOrEmpty)
        {
            _silos.Remove(route.Silo);
        }
        else
        {
            _silos.Register(route).Connections = [.. connections.Distinct()];
        }

        return Task.FromResult(Groups());
    }

    public async Task<SendReceipt> SendAsync(SendCommand command)
    {
        if (command.Sender.User != Id)
        {
            throw SwitchboardException.BadRequest("A user sends only as itself.");
        }

        var budget = _sends ??= new TokenBucket(limits.Value.SendsPerUserPerSecond, limits.Value.SendsPerUserBurst, time);
        if (!budget.TryTake())
        {
            throw new SwitchboardException(
                ProtocolError.RateLimited,
                $"{Id} sends more than {limits.Value.SendsPerUserPerSecond:0.##} messages per second over all its connections; slow down.");
        }

        var dedupe = _dedupe ??= new SendDedupe(options.Value.DedupeWindow, options.Value.DedupeCapacity);
        if (dedupe.MayContain(command.RequestId))
        {
            // A retry of a stored message: the log has its original receipt (nothing there: a new id sharing a hash).
            var original = await MessageLogCalls.GuardAsync(() => log.FindRequestAsync(Id, command.RequestId));
            if (original is not null)
            {
                return original;
            }
        }

        // A retry racing its original waits for it instead of storing the message twice.
        _inFlight ??= new(StringComparer.Ordinal);
        if (_inFlight.TryGetValue(command.RequestId, out var pending))
        {
            return await pending;
        }

        // An id this activation has not seen may still be stored (by an earlier activation, or by an attempt that
        // timed out): the log's unique (sender, request id) refuses it, and SendOnceAsync answers with the original.
        var send = SendOnceAsync(command, dedupe);
        _inFlight[command.RequestId] = send;
        try
        {
            return await send;
        }
        finally
        {
            _inFlight.Remove(command.RequestId);
        }
    }

    public Task DeliverAsync(Delivery delivery)
    {
        DeliverToSockets(delivery);
        return Task.CompletedTask;
    }

    public async Task<StoredMessage> AppendDirectAsync(SendCommand command)
    {
        if (command.To.IsGroup || command.To.User != Id || command.Sender.User == Id)
        {
            throw SwitchboardException.BadRequest($"A direct message to {Id} must come from another user.");
        }

        var conversation = ConversationId.Direct(command.Sender.User, Id);
        if (DirectConversations.OwnerOf(conversation) != Id)
        {
            throw SwitchboardException.BadRequest($"{conversation} is sequenced by {DirectConversations.OwnerOf(conversation)}, not {Id}.");
        }

        return await AppendOwnedAsync(conversation, command);
    }

    public Task<Presence> GetPresenceAsync()
    {
        RemoveExpired();
        var count = CountConnections();
        if (count == 0 && _directConversations is null && _dedupe is null && _inFlight is null)
        {
            // Activated only to say "offline" (any id may be asked about): keep nothing in memory for it.
            DeactivateOnIdle();
        }

        return Task.FromResult(new Presence(Id, count > 0, count));
    }

    public async Task<ImmutableArray<ConversationSummary>> GetConversationsAsync()
    {
        var groups = state.State.Groups.Select(g => ConversationId.ForGroup(new GroupId(g))).ToArray();
        try
        {
            var list = await log.ListConversationsAsync(Id, groups);
            var read = await MarkerStore.GetReadMarkersAsync(Id);
            return [.. list.Select(c => read.TryGetValue(c.Conversation, out var marker) ? c with { Read = Math.Min(marker, c.Seq) } : c)];
        }
        catch (Exception exception) when (exception is not SwitchboardException)
        {
            throw SwitchboardException.Unavailable("The message log is unavailable; retry.", new Exception(exception.Message));
        }
    }

    public Task<ImmutableArray<GroupId>> GetGroupsAsync() => Task.FromResult(Groups());

    public Task<int> GetGroupCountAsync() => Task.FromResult(state.State.Groups.Count);

    public async Task SetMembershipAsync(GroupId group, bool isMember)
    {
        // Mutated only under the lock: a write in flight may be serializing the state on another thread.
        _stateWrite ??= new SemaphoreSlim(1, 1);
        await _stateWrite.WaitAsync();
        try
        {
            var changed = isMember ? state.State.Groups.Add(group.Value) : state.State.Groups.Remove(group.Value);
            if (changed)
            {
                try
                {
                    await state.WriteStateAsync();
                }
                catch (Exception exception) when (exception is not SwitchboardException)
                {
                    // Undo the change in memory so that the retry writes it again.
                    _ = isMember ? state.State.Groups.Remove(group.Value) : state.State.Groups.Add(group.Value);
                    UserLog.StateWriteFailed(logger, Id.Value, exception);
                    throw SwitchboardException.Unavailable("User storage is unavailable; retry.", new Exception(exception.Message));
                }
            }
        }
        finally
        {
            _stateWrite.Release();
        }

        // Every silo holding the user's sockets (un)subscribes before the join or leave is acknowledged.
        RemoveExpired();
        await Task.WhenAll(_silos.Routes.Select(route => NotifySiloAsync(route.Sink, group, isMember)));
    }

    private async Task NotifySiloAsync(IConnectionSink sink, GroupId group, bool isMember)
    {
        try
        {
            await sink.MembershipChangedAsync(Id, group, isMember);
        }
        catch (Exception exception)
        {
            // The silo is gone or slow: its next renewal reconciles the membership.
            UserLog.SiloNotificationFailed(logger, Id.Value, exception);
        }
    }

    private async Task<SendReceipt> SendOnceAsync(SendCommand command, SendDedupe dedupe)
    {
        StoredMessage message;
        var fannedOutToSender = false;
        try
        {
            // Sequenced and stored where the conversation is sequenced (awaited here, not in a helper: each async
            // level a send passes through costs a state machine and a continuation per message).
            if (command.To.IsGroup)
            {
                message = await GrainFactory.GetGroupGrain(command.To.Group).PostAsync(command);

                // Members' sockets get group messages from the group's fan-out; a poster who is not a member does not.
                fannedOutToSender = state.State.Groups.Contains(command.To.Group.Value);
            }
            else
            {
                if (command.To.User == Id)
                {
                    throw SwitchboardException.BadRequest("A direct message to oneself is not allowed.");
                }

                // One of the two participants' grains sequences the conversation: this one (then the recipient's
                // grain gets the message one-way), or the recipient's (which writes it to its own sockets itself).
                var conversation = ConversationId.Direct(Id, command.To.User);
                message = DirectConversations.OwnerOf(conversation) == Id
                    ? await AppendOwnedAsync(conversation, command)
                    : await GrainFactory.GetUserGrain(command.To.User).AppendDirectAsync(command);
            }
        }
        catch (DuplicateRequestException)
        {
            // Stored before (by an earlier activation, or by an attempt whose answer was lost): the original's receipt.
            var stored = await MessageLogCalls.GuardAsync(() => log.FindRequestAsync(Id, command.RequestId))
                ?? throw SwitchboardException.Unavailable($"Request id '{command.RequestId}' is stored but could not be read back; retry.");
            dedupe.Add(command.RequestId, time.GetUtcNow());
            return stored;
        }

        var receipt = new SendReceipt(message.Conversation, message.Seq);
        dedupe.Add(command.RequestId, message.Timestamp);
        NoteOwnSend(receipt);

        if (!fannedOutToSender)
        {
            DeliverToOwnSockets(message, command.Origin);
        }

        return receipt;
    }

    /// <summary>Sequences and stores a direct message in a conversation this grain owns, then sends it on to the recipient.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<StoredMessage> AppendOwnedAsync(ConversationId conversation, SendCommand command)
    {
        _directConversations ??= new DirectConversations(Id, log, time, listLoads);
        var message = await _directConversations.AppendAsync(conversation, command);
        var delivery = new Delivery(conversation, message.Seq, message.From, command.Origin, MessageFrame.Serialize(message));
        if (command.To.User == Id)
        {
            DeliverToSockets(delivery);
        }
        else
        {
            // One-way: the ack waits for the log, not for the recipient's sockets.
            _ = GrainFactory.GetUserGrain(command.To.User).DeliverAsync(delivery);
        }

        return message;
    }

    private void DeliverToSockets(Delivery delivery)
    {
        NoteStored(delivery.Conversation, delivery.Seq);
        RemoveExpired();
        var local = LocalSink;
        foreach (var silo in _silos.All)
        {
            // The sockets on this grain's own silo are written here and now, not through an observer call.
            var sink = local is not null && silo.Route.Silo.Equals(local.Silo) ? local.Sink : silo.Route.Sink;
            _ = sink.DeliverToUserAsync(Id, delivery);
        }
    }

    private void DeliverToOwnSockets(StoredMessage message, ConnectionId? origin)
    {
        RemoveExpired();
        var others = CountConnections() - (origin is null ? 0 : 1);
        if (others <= 0)
        {
            return;
        }

        DeliverToSockets(new Delivery(message.Conversation, message.Seq, message.From, origin, MessageFrame.Serialize(message)));
    }

    private ImmutableArray<GroupId> Groups() => [.. state.State.Groups.Select(g => new GroupId(g))];

    private int CountConnections()
    {
        var count = 0;
        foreach (var silo in _silos.All)
        {
            count += silo.Connections.Length;
        }

        return count;
    }

    private void RemoveExpired()
    {
        var removed = _silos.RemoveExpired();
        if (removed > 0)
        {
            UserLog.RegistrationsExpired(logger, Id.Value, removed);
        }
    }

    /// <summary>A silo's registration with the user's connections on it.</summary>
    private sealed class SiloConnections : SiloRegistration
    {
        /// <summary>Distinct; replaced, never mutated.</summary>
        public ConnectionId[] Connections { get; set; } = [];
    }
}

internal static partial class UserLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "User {User}: dropped {Count} silo registrations (silo dead or not renewed)")]
    public static partial void RegistrationsExpired(ILogger logger, string user, int count);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "User {User}: a silo holding its sockets did not take a membership change")]
    public static partial void SiloNotificationFailed(ILogger logger, string user, Exception exception);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "User {User}: state write failed")]
    public static partial void StateWriteFailed(ILogger logger, string user, Exception exception);
}
