using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Switchboard.Connections;
using Switchboard.Grains.Hosting;
using Switchboard.Identity;
using Switchboard.Silo.Diagnostics;

namespace Switchboard.Silo.Connections;

/// <summary>
/// Keeps the grains' view of this silo right: registers connections with their user grains, subscribes
/// this silo to the groups its users belong to (one subscription per group, however many local members),
/// and renews both before they expire.
/// </summary>
public sealed class ConnectionRouter(
    ConnectionRegistry registry,
    SiloConnectionSink sink,
    IGrainFactory grainFactory,
    IOptions<RoutingOptions> routingOptions,
    ILocalSiloDetails localSilo,
    IClusterMembershipService membership,
    ILogger<ConnectionRouter> logger) : BackgroundService
{
    private readonly Lock _routeLock = new();
    private SiloRoute? _route;

    /// <summary>This silo's address and the observer reference grains call; made once, kept for the silo's life.</summary>
    public SiloRoute Route
    {
        get
        {
            if (_route is not null)
            {
                return _route;
            }

            lock (_routeLock)
            {
                return _route ??= new SiloRoute(localSilo.SiloAddress, grainFactory.CreateObjectReference<IConnectionSink>(sink));
            }
        }
    }

    /// <summary>Registers a connection with its user grain (which may refuse it: per-user cap) and locally.</summary>
    public async Task AttachAsync(IClientConnection connection, int maxConnectionsPerUser)
    {
        var user = grainFactory.GetUserGrain(connection.User);
        var groups = await user.AttachAsync(Route, connection.Id, maxConnectionsPerUser);
        registry.Add(connection);
        var (added, emptied) = registry.SetGroups(connection.User, groups);
        await UpdateSubscriptionsAsync(added, emptied);
    }

    /// <summary>Forgets a connection locally and in its user grain.</summary>
    public async Task DetachAsync(IClientConnection connection)
    {
        var emptied = registry.Remove(connection, out _);
        try
        {
            await grainFactory.GetUserGrain(connection.User).DetachAsync(Route, connection.Id);
        }
        catch (Exception exception)
        {
            // The registration expires on its own when it is not renewed.
            ConnectionLog.DetachFailed(logger, exception);
        }

        await UpdateSubscriptionsAsync([], emptied);
    }

    public async Task ApplyMembershipAsync(UserId user, GroupId group, bool isMember)
    {
        var (added, emptied) = registry.SetMembership(user, group, isMember);
        await UpdateSubscriptionsAsync(added, emptied);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        routingOptions.Value.ReannounceOnSiloDeath
            ? Task.WhenAll(RenewPeriodicallyAsync(stoppingToken), RenewOnMembershipChangeAsync(stoppingToken))
            : RenewPeriodicallyAsync(stoppingToken);

    private async Task RenewPeriodicallyAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(routingOptions.Value.RenewalPeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RenewSafelyAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// When a silo dies, the user and group grains it hosted come back elsewhere with empty routing state:
    /// every survivor re-announces its sockets and subscriptions at once instead of waiting for a renewal.
    /// </summary>
    private async Task RenewOnMembershipChangeAsync(CancellationToken stoppingToken)
    {
        var dead = new HashSet<SiloAddress>();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                var newlyDead = snapshot.Members.Values
                    .Where(m => m.Status == SiloStatus.Dead && dead.Add(m.SiloAddress))
                    .Select(m => m.SiloAddress)
                    .ToList();
                if (newlyDead.Count > 0 && registry.ConnectionCount > 0)
                {
                    ConnectionLog.ReannouncingAfterSiloDeath(logger, string.Join(", ", newlyDead), registry.UserCount);
                    await RenewSafelyAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RenewSafelyAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RenewAsync(stoppingToken);
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            ConnectionLog.RenewalFailed(logger, exception);
        }
    }

    /// <summary>Re-announces every local user's connections and every group subscription.</summary>
    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(registry.SnapshotUsers(), parallel, async (entry, _) =>
        {
            try
            {
                var groups = await grainFactory.GetUserGrain(entry.User).RenewAsync(Route, entry.Connections);
                var (added, emptied) = registry.SetGroups(entry.User, groups);
                await UpdateSubscriptionsAsync(added, emptied);
            }
            catch (Exception exception)
            {
                ConnectionLog.RenewalFailed(logger, exception);
            }
        });

        await Parallel.ForEachAsync(registry.SnapshotGroups(), parallel, async (group, _) =>
        {
            try
            {
                await grainFactory.GetGroupGrain(group).SubscribeAsync(Route);
            }
            catch (Exception exception)
            {
                ConnectionLog.RenewalFailed(logger, exception);
            }
        });
    }

    private async Task UpdateSubscriptionsAsync(ImmutableArray<GroupId> added, ImmutableArray<GroupId> emptied)
    {
        if (added.IsDefaultOrEmpty && emptied.IsDefaultOrEmpty)
        {
            return;
        }

        var calls = new List<Task>(added.Length + emptied.Length);
        foreach (var group in added)
        {
            calls.Add(grainFactory.GetGroupGrain(group).SubscribeAsync(Route));
        }

        foreach (var group in emptied)
        {
            calls.Add(grainFactory.GetGroupGrain(group).UnsubscribeAsync(Route));
        }

        await Task.WhenAll(calls);
    }
}
