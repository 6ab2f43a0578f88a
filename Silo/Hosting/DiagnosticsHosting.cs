using Switchboard.Grains.Conversations;
using Switchboard.Persistence.MariaDb;
using Switchboard.Silo.Auth;
using Switchboard.Silo.Diagnostics;
using Switchboard.Silo.Endpoints;
using Switchboard.Telemetry;

namespace Switchboard.Silo.Hosting;

/// <summary>What the silo logs, its metrics and traces, and the health checks behind <c>/health/live</c> and <c>/health/ready</c>.</summary>
public static class DiagnosticsHosting
{
    public static IHostApplicationBuilder AddSwitchboardDiagnostics(this IHostApplicationBuilder builder)
    {
        // ASP.NET Core logs request lines with their query string (?access_token=...): never. Off entirely, hosting
        // also starts no Activity and no logging scope per request (unless traces are on), which an open socket's
        // request would keep for as long as it is open. Failures are still logged by Kestrel and the exception handler.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Routing.EndpointMiddleware", LogLevel.Warning);

        builder.Services.AddSwitchboardHealthChecks();

        // Orleans' application grain calls only: its runtime source traces membership probes and directory traffic.
        builder.AddSwitchboardTelemetry(
            "switchboard-silo",
            meters: [SwitchboardMetrics.MeterName, MariaDbMessageLog.MeterName, "Microsoft.Orleans"],
            activitySources: [MessageLogTracing.SourceName, "Microsoft.Orleans.Application"]);
        return builder;
    }

    /// <summary>The Prometheus scrape endpoint (<c>Switchboard:Telemetry</c>); admin exposure takes the dashboard's policy.</summary>
    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapScrapeEndpoint(AuthenticationSetup.AdminPolicy);
}
