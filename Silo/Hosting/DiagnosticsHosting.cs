using Switchboard.Silo.Endpoints;

namespace Switchboard.Silo.Hosting;

/// <summary>What the silo logs, and the health checks behind <c>/health/live</c> and <c>/health/ready</c>.</summary>
public static class DiagnosticsHosting
{
    public static IHostApplicationBuilder AddSwitchboardDiagnostics(this IHostApplicationBuilder builder)
    {
        // ASP.NET Core logs request lines with their query string (?access_token=...): never. Off entirely, hosting
        // also starts no Activity and no logging scope per request, which an open socket's request would keep for as
        // long as it is open. Failures are still logged by Kestrel and the exception handler.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Routing.EndpointMiddleware", LogLevel.Warning);

        builder.Services.AddSwitchboardHealthChecks();
        return builder;
    }
}
