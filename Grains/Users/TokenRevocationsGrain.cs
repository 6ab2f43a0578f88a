using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Switchboard.Connections;
using Switchboard.Grains.Connections;
using Switchboard.Grains.Hosting;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Users;

namespace Switchboard.Grains.Users;

/// <summary>
/// The cluster's token revocations and the silos that hold a copy. Not reentrant: a revocation is stored and pushed
/// before the next call is taken, so a silo that syncs afterwards sees it. Revocations are rare and few (each is kept
/// only as long as a token issued before it can live), so one grain carries them all.
/// </summary>
internal sealed partial class TokenRevocationsGrain(
    [PersistentState("revocations", StorageNames.Grains)] IPersistentState<TokenRevocationsState> state,
    TimeProvider time,
    IOptions<RoutingOptions> options,
    ISiloStatusOracle membership,
    ILogger<TokenRevocationsGrain> logger) : Grain, ITokenRevocationsGrain
{
    /// <summary>How long a revocation waits for each silo to apply it; a silo that does not answer learns it at its next sync.</summary>
    public static readonly TimeSpan PushTimeout = TimeSpan.FromSeconds(5);

    private readonly SiloRegistrations<SiloRegistration> _silos = new(time, membership, options.Value.RegistrationLifetime);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Pushes reach the silos that held a copy before a restart of this grain, without waiting for their next sync.
        _silos.Restore(state.State.Silos);
        return Task.CompletedTask;
    }

    public async Task<RevocationOutcome> RevokeAsync(TokenRevocation revocation)
    {
        var key = revocation.User.Value;
        var entries = state.State.Revocations;
        entries.TryGetValue(key, out var previous);

        // Never moves backwards: a later call with an earlier moment keeps the later one.
        var stored = previous is not null && previous.Before >= revocation.Before
            ? previous with { KeepUntil = Max(previous.KeepUntil, revocation.KeepUntil) }
            : revocation with { KeepUntil = Max(previous?.KeepUntil ?? revocation.KeepUntil, revocation.KeepUntil) };
        entries[key] = stored;
        Prune();
        state.State.Version++;
        await WriteAsync(() =>
        {
            state.State.Version--;
            if (previous is null)
            {
                entries.Remove(key);
            }
            else
            {
                entries[key] = previous;
            }
        });

        _silos.RemoveExpired();
        var silos = _silos.All.ToArray();
        var pushes = silos.Select(s => PushAsync(s.Route, stored)).ToArray();
        var closed = await Task.WhenAll(pushes);
        var unconfirmed = closed.Count(c => c < 0);
        var outcome = new RevocationOutcome(stored, silos.Length, unconfirmed, closed.Where(c => c > 0).Sum());
        RevocationLog.Revoked(logger, key, stored.Before, outcome.Silos, outcome.Unconfirmed, outcome.Closed);
        return outcome;
    }

    public async Task<RevocationSnapshot?> SyncAsync(SiloRoute route, long knownVersion)
    {
        // Stored only when it changes what a restarted grain would read back: never for a renewal.
        var known = _silos.Find(route.Silo)?.Route.Sink.Equals(route.Sink) == true;
        _silos.Register(route);
        if (!known)
        {
            try
            {
                await WriteAsync(undo: null);
            }
            catch (SwitchboardException exception)
            {
                // Best effort: a restarted grain only waits for this silo's next sync.
                RevocationLog.SilosNotPersisted(logger, exception);
            }
        }

        if (knownVersion == state.State.Version)
        {
            return null;
        }

        Prune();
        return new RevocationSnapshot(state.State.Version, [.. state.State.Revocations.Values]);
    }

    /// <summary>The sockets the silo closed, or -1 when it did not answer in time.</summary>
    private async Task<int> PushAsync(SiloRoute route, TokenRevocation revocation)
    {
        try
        {
            return await route.Sink.RevokeTokensAsync(revocation).WaitAsync(PushTimeout);
        }
        catch (Exception exception)
        {
            RevocationLog.PushFailed(logger, route.Silo.ToString(), exception);
            return -1;
        }
    }

    /// <summary>Forgets revocations no token can outlive any more (in memory; stored with the next write).</summary>
    private void Prune()
    {
        var now = time.GetUtcNow();
        var entries = state.State.Revocations;
        foreach (var (user, revocation) in entries)
        {
            if (revocation.KeepUntil < now)
            {
                entries.Remove(user);
            }
        }
    }

    private async Task WriteAsync(Action? undo)
    {
        state.State.Silos = [.. _silos.Routes];
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception exception)
        {
            undo?.Invoke();
            RevocationLog.WriteFailed(logger, exception);
            throw SwitchboardException.Unavailable("Revocation storage is unavailable; retry.", new Exception(exception.Message));
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}

/// <summary>The persisted revocations (by user id), their version, and the silos holding a copy.</summary>
[GenerateSerializer, Alias("sb.TokenRevocationsState")]
public sealed class TokenRevocationsState
{
    [Id(0)]
    public Dictionary<string, TokenRevocation> Revocations { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Increases with every revocation, so a silo's sync can answer "unchanged".</summary>
    [Id(1)]
    public long Version { get; set; }

    [Id(2)]
    public List<SiloRoute> Silos { get; set; } = [];
}

internal static partial class RevocationLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Tokens of user {User} issued before {Before:o} are revoked: {Silos} silos told, {Unconfirmed} did not answer, {Closed} sockets closed")]
    public static partial void Revoked(ILogger logger, string user, DateTimeOffset before, int silos, int unconfirmed, int closed);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Silo {Silo} did not apply a token revocation in time; it learns it at its next sync")]
    public static partial void PushFailed(ILogger logger, string silo, Exception exception);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "Token revocations: state write failed")]
    public static partial void WriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Token revocations: the silos holding a copy were not stored")]
    public static partial void SilosNotPersisted(ILogger logger, Exception exception);
}
