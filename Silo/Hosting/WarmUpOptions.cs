using System.ComponentModel.DataAnnotations;

namespace Switchboard.Silo.Hosting;

/// <summary>What a silo does before it reports ready (section <c>Switchboard:WarmUp</c>); see <see cref="SiloWarmUp"/>.</summary>
public sealed class WarmUpOptions
{
    public const string SectionName = "Switchboard:WarmUp";

    /// <summary>Run the warm-up before <c>/health/ready</c> answers 200. Default true; off, the silo is ready as soon as it is active.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The longest the warm-up may hold readiness back; past it the silo gives up (logged) and reports ready. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Rounds of the hot paths (scratch grain calls, frame parsing and writing); enough calls for the JIT to optimize them. Default 60.</summary>
    [Range(0, 10_000)]
    public int Rounds { get; set; } = 60;

    /// <summary>Database connections opened in each MariaDB pool before the first user needs one (durable silos). Default 16.</summary>
    [Range(0, 1_000)]
    public int DatabaseConnections { get; set; } = 16;
}
