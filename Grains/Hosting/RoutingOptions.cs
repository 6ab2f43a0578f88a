using System.ComponentModel.DataAnnotations;

namespace Switchboard.Grains.Hosting;

/// <summary>Routing and delivery settings shared by grains and silos (section <c>Switchboard:Routing</c>).</summary>
public sealed class RoutingOptions
{
    public const string SectionName = "Switchboard:Routing";

    /// <summary>How often a silo re-announces its connections and group subscriptions. Default 60 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RenewalPeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a grain keeps a silo's registration without a renewal. Default 3 min; must exceed <see cref="RenewalPeriod"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:02", "02:00:00")]
    public TimeSpan RegistrationLifetime { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Whether a silo re-announces its sockets and subscriptions as soon as another silo is declared dead.
    /// Default true. Off, recovery rests on what grains kept in their state and on the periodic renewal:
    /// only for drills that prove exactly that.
    /// </summary>
    public bool ReannounceOnSiloDeath { get; set; } = true;

    /// <summary>How long send ids are remembered for dedupe. Default (and minimum) 24 h.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "30.00:00:00")]
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Send ids a user grain keeps in memory (its most recent); an older id is still refused by the log's unique
    /// (sender, request id) and answered with the original receipt read back from the log. Default 1,000: about
    /// 200 KB for a user at the cap, where 100,000 (the earlier default) let one busy user's grain hold ~20 MB.
    /// </summary>
    [Range(1, 10_000_000)]
    public int DedupeCapacity { get; set; } = 1_000;
}
