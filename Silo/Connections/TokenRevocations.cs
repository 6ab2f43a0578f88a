using System.Collections.Concurrent;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Diagnostics;
using Switchboard.Users;

namespace Switchboard.Silo.Connections;

/// <summary>
/// This silo's copy of the cluster's token revocations (<see cref="ITokenRevocationsGrain"/>), so checking a token
/// costs a dictionary lookup, not a grain call. Revocations are pushed here as they are made (and this silo's sockets
/// holding a refused token are closed with 4003 at once); a sync every <see cref="SyncPeriod"/> catches a push that
/// was lost. Entries only ever grow stricter until they expire: a merge never loses a revocation.
/// </summary>
public sealed class TokenRevocations(
    ConnectionRegistry registry,
    ConnectionRouter router,
    IGrainFactory grains,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<TokenRevocations> logger) : BackgroundService
{
    /// <summary>How often the copy is synced: a silo that missed a push refuses the token at most this much later.</summary>
    public static readonly TimeSpan SyncPeriod = TimeSpan.FromSeconds(10);

    /// <summary>How long a token check waits for the first sync after a start before answering <c>unavailable</c>.</summary>
    public static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan s_retry = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<UserId, TokenRevocation> _revocations = new();
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _version = -1;

    /// <summary>Whether the first sync has completed (until then checks wait for it).</summary>
    public bool IsLoaded => _loaded.Task.IsCompleted;

    public int Count => _revocations.Count;

    /// <summary>
    /// Whether <paramref name="user"/>'s token issued at <paramref name="issuedAt"/> is revoked. Right after a start
    /// it waits for the first sync; throws <c>unavailable</c> when that does not come in time (never answers "not
    /// revoked" without knowing).
    /// </summary>
    public ValueTask<bool> IsRevokedAsync(UserId user, DateTimeOffset? issuedAt) =>
        _loaded.Task.IsCompleted ? new(IsRevoked(user, issuedAt)) : WaitThenCheckAsync(user, issuedAt);

    /// <summary>The check on the copy as it is (for a socket already admitted, where the copy is loaded).</summary>
    public bool IsRevoked(UserId user, DateTimeOffset? issuedAt) =>
        _revocations.TryGetValue(user, out var revocation) && revocation.KeepUntil >= time.GetUtcNow() && revocation.Refuses(issuedAt);

    /// <summary>Applies a revocation (pushed by the grain, or read in a sync); returns how many local sockets it closed.</summary>
    public int Apply(TokenRevocation revocation)
    {
        var merged = _revocations.AddOrUpdate(
            revocation.User,
            static (_, incoming) => incoming,
            static (_, held, incoming) => incoming.Before > held.Before ? incoming : held with { KeepUntil = incoming.KeepUntil > held.KeepUntil ? incoming.KeepUntil : held.KeepUntil },
            revocation);

        var closed = 0;
        foreach (var connection in registry.GetUserConnections(revocation.User))
        {
            if (merged.Refuses(connection.TokenIssuedAt))
            {
                connection.Disconnect("disconnected by an administrator");
                closed++;
            }
        }

        if (closed > 0)
        {
            ConnectionLog.RevokedSocketsClosed(logger, revocation.User.Value, closed);
        }

        return closed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Grains answer once the silo is up; the host reports started after it.
        try
        {
            await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStarted.IsCancellationRequested)
        {
        }
        catch (OperationCanceledException)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var synced = await SyncAsync();
            try
            {
                await Task.Delay(synced ? SyncPeriod : s_retry, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Syncs once; false when the grain could not be reached.</summary>
    public async Task<bool> SyncAsync()
    {
        try
        {
            var snapshot = await grains.GetGrain<ITokenRevocationsGrain>(0).SyncAsync(router.Route, Interlocked.Read(ref _version));
            if (snapshot is not null)
            {
                foreach (var revocation in snapshot.Revocations)
                {
                    if (!_revocations.TryGetValue(revocation.User, out var held) || held != revocation)
                    {
                        Apply(revocation);
                    }
                }

                Interlocked.Exchange(ref _version, snapshot.Version);
            }

            Prune();
            _loaded.TrySetResult();
            return true;
        }
        catch (Exception exception)
        {
            ConnectionLog.RevocationSyncFailed(logger, exception);
            return false;
        }
    }

    private async ValueTask<bool> WaitThenCheckAsync(UserId user, DateTimeOffset? issuedAt)
    {
        try
        {
            await _loaded.Task.WaitAsync(LoadTimeout, time);
        }
        catch (TimeoutException)
        {
            throw SwitchboardException.Unavailable("This node has not loaded the token revocations yet; retry.");
        }

        return IsRevoked(user, issuedAt);
    }

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (user, revocation) in _revocations)
        {
            if (revocation.KeepUntil < now)
            {
                _revocations.TryRemove(new KeyValuePair<UserId, TokenRevocation>(user, revocation));
            }
        }
    }
}
