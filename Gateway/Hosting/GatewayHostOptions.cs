using System.ComponentModel.DataAnnotations;

namespace Switchboard.Gateway.Hosting;

/// <summary>How the gateway finds silos and guards its edges (section <c>Switchboard:Gateway</c>).</summary>
public sealed class GatewayHostOptions : IValidatableObject
{
    public const string SectionName = "Switchboard:Gateway";

    /// <summary>Orleans cluster id of the silos (as their <c>Switchboard:Silo:ClusterId</c>). Default <c>switchboard</c>.</summary>
    [Required]
    public string ClusterId { get; set; } = "switchboard";

    /// <summary>Orleans service id of the silos. Default <c>switchboard</c>.</summary>
    [Required]
    public string ServiceId { get; set; } = "switchboard";

    /// <summary>How often the gateway asks the cluster for its active silos. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan DiscoveryPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one discovery question may take before it counts as failed. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:01:00")]
    public TimeSpan DiscoveryTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Silo base URLs (e.g. <c>http://127.0.0.1:5000</c>) used instead of discovery, and only when
    /// <c>ConnectionStrings:Redis</c> is not set: for the embedded single silo.
    /// </summary>
    public string[] Silos { get; set; } = [];

    /// <summary>Origins allowed to open sockets at <c>/ws</c> (exact match). Empty allows any; requests without Origin are always allowed.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Proxies <c>/api/dev/**</c> (the silos' dev tokens) to the silos. Default false: the gateway answers 404 itself,
    /// so a silo with dev tokens on is never reachable through the front door by accident. The local cluster turns it on.
    /// </summary>
    public bool RouteDevTokens { get; set; }

    /// <summary>
    /// Validates the bearer token of every <c>/ws</c> request before proxying it, with the silos' rules and the same
    /// <c>Switchboard:Auth</c> settings; a missing or invalid token gets 401 from the gateway. Default true, and then the
    /// gateway refuses to start without a key (<c>Switchboard:Auth:SigningKey</c>, <c>Authority</c>, <c>JwksUrl</c> or
    /// <c>PublicKeyFiles</c>). False leaves tokens to the silos alone, with a warning at start.
    /// </summary>
    public bool ValidateTokens { get; set; } = true;

    /// <summary>How long a proxied request or WebSocket may stay idle before it is cut. Default 100 s (YARP's); silo keep-alives must be well under it.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ActivityTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Period of the active health checks on each silo's <c>/health/ready</c>. Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one active health check may take. Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a silo marked unhealthy by passive checks (failed forwards) is left out before it is tried again. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long opening a connection to a silo may take. Default 3 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// When no <c>Kestrel:Endpoints</c> are configured: listen on <see cref="HttpsUrl"/> with a self-signed
    /// certificate made at start (development and tests). Default false.
    /// </summary>
    public bool SelfSignedCertificate { get; set; }

    /// <summary>
    /// Has OpenSSL free each TLS connection's record buffers whenever they are empty, so an idle wss socket holds
    /// about 13 KiB less; each record then allocates its buffer anew. Default true.
    /// </summary>
    public bool ReleaseIdleTlsBuffers { get; set; } = true;

    /// <summary>Where the self-signed listener listens. Default <c>https://127.0.0.1:8443</c>; port 0 picks a free one.</summary>
    [Required]
    public string HttpsUrl { get; set; } = "https://127.0.0.1:8443";

    /// <summary>How long stopping may take; open sockets are aborted at once when stopping starts. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// WebSocket upgrades each client address may start per second, refilled once a second; 0 turns the limit off.
    /// Default 20, with <see cref="UpgradeBurst"/>: a classroom behind one NAT reconnecting at once still gets in.
    /// </summary>
    [Range(0, 1_000_000)]
    public int UpgradesPerSecond { get; set; } = 20;

    /// <summary>Upgrades a client address may start at once before <see cref="UpgradesPerSecond"/> applies. Default 100.</summary>
    [Range(0, 10_000_000)]
    public int UpgradeBurst { get; set; } = 100;

    /// <summary>Other proxied requests (REST, the page, the dashboard) per client address and second; 0 turns the limit off. Default 200.</summary>
    [Range(0, 1_000_000)]
    public int RequestsPerSecond { get; set; } = 200;

    /// <summary>Proxied requests a client address may send at once before <see cref="RequestsPerSecond"/> applies. Default 1,000.</summary>
    [Range(0, 10_000_000)]
    public int RequestBurst { get; set; } = 1000;

    /// <summary>WebSockets one client address may hold open through this gateway; 0 turns the limit off. Default 2,000.</summary>
    [Range(0, 10_000_000)]
    public int OpenSocketsPerAddress { get; set; } = 2000;

    /// <summary><c>max-age</c> of the <c>Strict-Transport-Security</c> header on https responses; 0 sends none. Default 180 days, no <c>preload</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "730.00:00:00")]
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(180);

    /// <summary>Adds <c>includeSubDomains</c> to the HSTS header. Default false: other hosts of the domain may still serve http.</summary>
    public bool HstsIncludeSubDomains { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UpgradesPerSecond > 0 && UpgradeBurst < UpgradesPerSecond)
        {
            yield return new ValidationResult($"{SectionName}:UpgradeBurst ({UpgradeBurst}) must be at least UpgradesPerSecond ({UpgradesPerSecond}).", [nameof(UpgradeBurst)]);
        }

        if (RequestsPerSecond > 0 && RequestBurst < RequestsPerSecond)
        {
            yield return new ValidationResult($"{SectionName}:RequestBurst ({RequestBurst}) must be at least RequestsPerSecond ({RequestsPerSecond}).", [nameof(RequestBurst)]);
        }

        foreach (var silo in Silos)
        {
            if (!Uri.TryCreate(silo, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return new ValidationResult($"{SectionName}:Silos: '{silo}' is not an http(s) URL.", [nameof(Silos)]);
            }
        }

        if (!Uri.TryCreate(HttpsUrl, UriKind.Absolute, out var https) || https.Scheme != "https")
        {
            yield return new ValidationResult($"{SectionName}:HttpsUrl: '{HttpsUrl}' is not an https URL.", [nameof(HttpsUrl)]);
        }

        foreach (var origin in AllowedOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out _))
            {
                yield return new ValidationResult($"{SectionName}:AllowedOrigins: '{origin}' is not an origin such as https://app.example.com.", [nameof(AllowedOrigins)]);
            }
        }
    }
}
