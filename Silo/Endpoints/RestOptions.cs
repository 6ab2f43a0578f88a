using System.ComponentModel.DataAnnotations;

namespace Switchboard.Silo.Endpoints;

/// <summary>
/// REST limits of one silo (section <c>Switchboard:Rest</c>). Sends are also held to the user's cluster-wide budget
/// (<c>Switchboard:Limits</c>); per client address, the gateway limits requests before they reach a silo.
/// </summary>
public sealed class RestOptions
{
    public const string SectionName = "Switchboard:Rest";

    /// <summary>Authenticated requests one user may make to this silo per second on average; over it, 429 with <c>Retry-After</c>. Default 50; 0 turns it off.</summary>
    [Range(0, 1_000_000)]
    public double RequestsPerUserPerSecond { get; set; } = 50;

    /// <summary>Requests one user may make to this silo in a burst. Default 200.</summary>
    [Range(1, 1_000_000)]
    public int RequestsPerUserBurst { get; set; } = 200;
}
