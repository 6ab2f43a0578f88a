using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Switchboard.Gateway.Proxy;
using Yarp.ReverseProxy;

namespace Switchboard.Gateway.Endpoints;

/// <summary>The gateway's own <c>/health/live</c> (the process answers) and <c>/health/ready</c> (it has a silo to send traffic to).</summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IServiceCollection AddGatewayHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<DestinationsReadyCheck>("destinations", tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
        return endpoints;
    }

    /// <summary>Ready while at least one destination is available (healthy, or not yet probed) to the proxy.</summary>
    private sealed class DestinationsReadyCheck(IProxyStateLookup proxyState) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var available = proxyState.TryGetCluster(GatewayRoutes.ClusterId, out var cluster) ? cluster.DestinationsState.AvailableDestinations.Count : 0;
            var all = cluster?.Destinations.Count ?? 0;
            return Task.FromResult(available > 0
                ? HealthCheckResult.Healthy($"{available} of {all} silos available")
                : HealthCheckResult.Unhealthy($"no silo available ({all} known)"));
        }
    }
}
