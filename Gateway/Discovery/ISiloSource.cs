namespace Switchboard.Gateway.Discovery;

/// <summary>Where the gateway learns which silos to send traffic to.</summary>
public interface ISiloSource
{
    /// <summary>The silos that should receive traffic now; throws when the answer cannot be had (the caller keeps what it knew).</summary>
    Task<IReadOnlyList<SiloDestination>> GetSilosAsync(CancellationToken cancellationToken);
}

/// <summary>One silo as a proxy destination.</summary>
/// <param name="Id">Stable while the silo process lives (its Orleans address), so health state survives config updates.</param>
/// <param name="Name">The silo's name, as in <c>welcome.node</c>.</param>
/// <param name="Url">The silo's HTTP base URL.</param>
public sealed record SiloDestination(string Id, string Name, string Url);
