using Switchboard.Connections;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Diagnostics;
using Switchboard.Users;

namespace Switchboard.Silo.Connections;

/// <summary>
/// The observer grains call to reach this silo's sockets (grains on this silo call it directly, as
/// <see cref="ILocalConnectionSink"/>). Expands one call into writes to local sockets, writing the same frame bytes to each.
/// One per silo for the silo's life: Orleans holds an observer only weakly, so the container's reference keeps it reachable.
/// </summary>
public sealed class SiloConnectionSink(ConnectionRegistry registry, SwitchboardMetrics metrics, ILocalSiloDetails localSilo, IServiceProvider services)
    : IConnectionSink, ILocalConnectionSink
{
    private long _userCalls;
    private long _groupCalls;

    /// <summary>Calls grains made to deliver to one user's local sockets.</summary>
    public long UserCalls => Interlocked.Read(ref _userCalls);

    /// <summary>Calls grains made to deliver a group message to this silo (one per message per silo).</summary>
    public long GroupCalls => Interlocked.Read(ref _groupCalls);

    public SiloAddress Silo => localSilo.SiloAddress;

    public IConnectionSink Sink => this;

    public Task DeliverToUserAsync(UserId user, Delivery delivery)
    {
        Interlocked.Increment(ref _userCalls);
        metrics.SinkCalled("user");
        Write(registry.GetUserConnections(user), delivery);
        return Task.CompletedTask;
    }

    public Task DeliverToGroupAsync(GroupId group, Delivery delivery)
    {
        Interlocked.Increment(ref _groupCalls);
        metrics.SinkCalled("group");
        foreach (var member in registry.GetGroupMembers(group))
        {
            if (delivery.ExcludeUser is { } excluded && excluded == member)
            {
                continue;
            }

            Write(registry.GetUserConnections(member), delivery);
        }

        return Task.CompletedTask;
    }

    // Looked up per call, not injected: the router takes this sink to make the observer reference grains call, so each would need the other first.
    public Task MembershipChangedAsync(UserId user, GroupId group, bool isMember) =>
        services.GetRequiredService<ConnectionRouter>().ApplyMembershipAsync(user, group, isMember);

    public Task<int> RevokeTokensAsync(TokenRevocation revocation) =>
        Task.FromResult(services.GetRequiredService<TokenRevocations>().Apply(revocation));

    private void Write(System.Collections.Immutable.ImmutableArray<IClientConnection> connections, Delivery delivery)
    {
        // Live read and typing frames (protocol 1.1) travel the same way but are not messages: counted apart.
        var live = LiveKind(delivery.Frame);
        foreach (var connection in connections)
        {
            if (delivery.Exclude is { } exclude && exclude == connection.Id)
            {
                continue;
            }

            if (connection.TrySend(delivery.Frame))
            {
                if (live is null)
                {
                    metrics.MessageDelivered();
                }
                else
                {
                    metrics.LiveFrameDelivered(live);
                }
            }
        }
    }

    private static string? LiveKind(byte[] frame) =>
        frame.AsSpan().StartsWith("{\"type\":\"read\""u8) ? "read"
        : frame.AsSpan().StartsWith("{\"type\":\"typing\""u8) ? "typing"
        : null;
}
