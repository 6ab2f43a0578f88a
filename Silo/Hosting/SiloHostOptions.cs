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

    /// <summary>The IP other silos reach this one on (durable cluster only). Default 127.0.0.1.</summary>
    [Required]
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// The HTTP base URL the gateway should use for this silo, published in the silo's membership metadata.
    /// Default: the first of <c>Urls</c>, with a wildcard or localhost host replaced by <see cref="AdvertisedAddress"/>.
    /// </summary>
    public string? HttpEndpoint { get; set; }

    /// <summary>Listen for silo and gateway traffic on every interface, not only the advertised address. Default false.</summary>
    public bool ListenOnAnyAddress { get; set; }

    /// <summary>How long a grain call may take before it fails (the client sees <c>unavailable</c> and retries). Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often silos probe each other, and how long a probe may take; three missed probes in a row declare a
    /// silo dead. Default 2 s (Orleans: 5 s): a crashed silo's sockets leave presence within about 6 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// IP addresses of the gateways whose <c>X-Forwarded-For</c> / <c>X-Forwarded-Proto</c> this silo believes.
    /// Default none: forwarded headers are ignored from everyone, loopback included.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>
    /// Takes <c>/ws</c> upgrades at the Kestrel connection, before HTTP (see <c>ConnectionUpgrade</c>): an idle
    /// socket then holds no HTTP/1.1 request state. Default true; off, every socket goes through the HTTP pipeline.
    /// </summary>
    public bool ConnectionLevelSockets { get; set; } = true;

    /// <summary>Whether the Orleans Dashboard is served at <c>/dashboard</c> (admin role only). Default true.</summary>
    public bool Dashboard { get; set; } = true;
}
