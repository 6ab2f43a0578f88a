using Microsoft.Extensions.Logging;

namespace Switchboard.Telemetry;

/// <summary>Telemetry's log entries (event ids 8001–8009).</summary>
internal static partial class TelemetryLog
{
    [LoggerMessage(8001, LogLevel.Information, "Metrics: Prometheus scrape endpoint {Path}, exposure {Exposure} (networks besides loopback: {Networks}); OTLP metrics export {Otlp}.")]
    public static partial void Metrics(ILogger logger, string path, ScrapeExposure exposure, string networks, string otlp);

    [LoggerMessage(8002, LogLevel.Information, "Traces: {State}, {Ratio} of new traces sampled (parent-based); OTLP trace export {Otlp}.")]
    public static partial void Traces(ILogger logger, string state, double ratio, string otlp);

    [LoggerMessage(8003, LogLevel.Warning, "The Prometheus scrape endpoint {Path} is open to anyone who reaches this port: keep the port private.")]
    public static partial void OpenScrape(ILogger logger, string path);
}
