using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Switchboard.Telemetry;

/// <summary>Who may read the Prometheus scrape endpoint.</summary>
public enum ScrapeExposure
{
    /// <summary>No endpoint: the path answers 404.</summary>
    Off,

    /// <summary>Requests from a loopback address or from <see cref="TelemetryOptions.ScrapeNetworks"/>; 403 for anyone else.</summary>
    Local,

    /// <summary>Callers with an admin token, as the dashboard (silos only: the gateway has no admin login).</summary>
    Admin,

    /// <summary>Anyone who reaches the port: only where the port itself is private.</summary>
    Open,
}

/// <summary>Metrics and traces with OpenTelemetry (section <c>Switchboard:Telemetry</c>), on the silos and the gateway alike.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Switchboard:Telemetry";

    /// <summary>Who may scrape <see cref="ScrapePath"/>. Default <see cref="ScrapeExposure.Local"/>.</summary>
    public ScrapeExposure Prometheus { get; set; } = ScrapeExposure.Local;

    /// <summary>The path of the Prometheus scrape endpoint. Default <c>/metrics</c>.</summary>
    [Required]
    [RegularExpression("^/[A-Za-z0-9/_.-]*$")]
    public string ScrapePath { get; set; } = "/metrics";

    /// <summary>
    /// Networks (CIDR, e.g. <c>10.0.3.0/24</c>) that may scrape besides loopback when <see cref="Prometheus"/> is
    /// <see cref="ScrapeExposure.Local"/>: the monitoring hosts'. Default none.
    /// </summary>
    public string[] ScrapeNetworks { get; set; } = [];

    /// <summary>
    /// Whether traces are recorded. Unset (the default): when an OTLP endpoint is configured
    /// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>); false: never; true: always
    /// (exported only when an endpoint is configured).
    /// </summary>
    public bool? Traces { get; set; }

    /// <summary>
    /// The share of new traces recorded (parent-based: a request that arrives in a recorded trace stays recorded).
    /// Default 0.01; 0 records none, 1 every one.
    /// </summary>
    [Range(0.0, 1.0)]
    public double TraceSampleRatio { get; set; } = 0.01;

    /// <summary>Whether every entry of <see cref="ScrapeNetworks"/> is a CIDR network.</summary>
    internal bool NetworksParse() => ScrapeNetworks.All(n => IPNetwork.TryParse(n, out _));
}
