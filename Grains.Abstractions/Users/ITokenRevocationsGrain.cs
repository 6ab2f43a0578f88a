using System.Collections.Immutable;
using Switchboard.Connections;
using Switchboard.Identity;

namespace Switchboard.Users;

/// <summary>
/// The cluster's token revocations (one grain, key 0): "refuse <c>user</c>'s tokens issued before <c>before</c>",
/// each kept until no such token can still be valid. Every silo holds a copy, so checking a token never costs a grain
/// call: a revocation is pushed to every subscribed silo before it is answered, and silos sync periodically in case
/// a push was lost. Stored with the grain state, so a revocation survives a restart of the whole cluster.
/// </summary>
[Alias("sb.ITokenRevocationsGrain")]
public interface ITokenRevocationsGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Stores <paramref name="revocation"/> (a later <c>Before</c> for the same user replaces an earlier one), then
    /// tells every subscribed silo, which closes that user's sockets opened with such tokens (4003).
    /// </summary>
    [Alias("Revoke")]
    Task<RevocationOutcome> RevokeAsync(TokenRevocation revocation);

    /// <summary>
    /// Subscribes (or renews) the silo of <paramref name="route"/> for pushes, and returns every revocation in force
    /// when the list changed since <paramref name="knownVersion"/> (null when it did not).
    /// </summary>
    [Alias("Sync")]
    Task<RevocationSnapshot?> SyncAsync(SiloRoute route, long knownVersion);
}

/// <summary>Refuse <paramref name="User"/>'s tokens issued before <paramref name="Before"/>; forgotten after <paramref name="KeepUntil"/>.</summary>
[GenerateSerializer, Immutable, Alias("sb.TokenRevocation")]
public sealed record TokenRevocation(
    [property: Id(0)] UserId User,
    [property: Id(1)] DateTimeOffset Before,
    [property: Id(2)] DateTimeOffset KeepUntil)
{
    /// <summary>
    /// Whether a token issued at <paramref name="issuedAt"/> is refused. A token without <c>iat</c> cannot show it
    /// came later: it is refused for as long as the revocation is kept.
    /// </summary>
    public bool Refuses(DateTimeOffset? issuedAt) => issuedAt is not { } at || at < Before;
}

/// <summary>Every revocation in force, at <paramref name="Version"/>.</summary>
[GenerateSerializer, Immutable, Alias("sb.RevocationSnapshot")]
public sealed record RevocationSnapshot(
    [property: Id(0)] long Version,
    [property: Id(1)] ImmutableArray<TokenRevocation> Revocations);

/// <summary>What a revocation did: the silos told, those that did not answer in time, and the sockets they closed.</summary>
[GenerateSerializer, Immutable, Alias("sb.RevocationOutcome")]
public sealed record RevocationOutcome(
    [property: Id(0)] TokenRevocation Revocation,
    [property: Id(1)] int Silos,
    [property: Id(2)] int Unconfirmed,
    [property: Id(3)] int Closed);
