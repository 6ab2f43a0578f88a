using System.ComponentModel.DataAnnotations;

namespace Switchboard.Silo.Hosting;

/// <summary>How this process joins the cluster (section <c>Switchboard:Silo</c>).</summary>
public sealed class SiloHostOptions
{
    public const string SectionName = "Switchboard:Silo";

    /// <summary>Name shown in <c>welcome</c> frames and the dashboard. Default: host name and silo port.</summary>
    public string? Name { get; set; }

    /// <summary>Orleans silo-to-silo port. Default 11111; 0 picks a free port.</summary>
    [Range(0, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Orleans client gateway port. Default 30000; 0 picks a free port.</summary>
    [Range(0, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Orleans cluster id. Default <c>switchboard</c>.</summary>
    [Required]
    public string ClusterId { get; set; } = "switchboard";

    /// <summary>Orleans service id (keys grain state; keep it stable across deployments). Default <c>switchboard</c>.</summary>
    [Required]
    public string ServiceId { get; set; } = "switchboard";

    /// <summary>Whether the Orleans Dashboard is served at <c>/dashboard</c> (admin role only). Default true.</summary>
    public bool Dashboard { get; set; } = true;
}
