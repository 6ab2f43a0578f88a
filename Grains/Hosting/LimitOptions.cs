using System.ComponentModel.DataAnnotations;

namespace Switchboard.Grains.Hosting;

/// <summary>
/// Limits that hold across the whole cluster, enforced by the grain that owns the user or group (section
/// <c>Switchboard:Limits</c>). A rate of 0 turns that limit off.
/// </summary>
public sealed class LimitOptions
{
    public const string SectionName = "Switchboard:Limits";

    /// <summary>
    /// Messages one user may send per second on average, over all its sockets and REST together, on every silo.
    /// Over it, a send is refused with <c>rate_limited</c> (REST: 429 with <c>Retry-After</c>). Default 100.
    /// </summary>
    [Range(0, 1_000_000)]
    public double SendsPerUserPerSecond { get; set; } = 100;

    /// <summary>Messages one user may send in a burst. Default 200.</summary>
    [Range(1, 1_000_000)]
    public int SendsPerUserBurst { get; set; } = 200;

    /// <summary>Messages one group accepts per second on average, from all its posters together. Default 100.</summary>
    [Range(0, 1_000_000)]
    public double PostsPerGroupPerSecond { get; set; } = 100;

    /// <summary>Messages one group accepts in a burst. Default 200.</summary>
    [Range(1, 1_000_000)]
    public int PostsPerGroupBurst { get; set; } = 200;

    /// <summary>Members one group may have; adding or joining past it is <c>forbidden</c>. Default 10,000.</summary>
    [Range(1, 1_000_000)]
    public int MaxMembersPerGroup { get; set; } = 10_000;

    /// <summary>
    /// Groups one user may belong to; joining, being added to or creating one more is <c>forbidden</c>. Checked when the
    /// membership is made, so joins racing on other groups may pass it by a few. Default 1,000.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxGroupsPerUser { get; set; } = 1_000;
}
