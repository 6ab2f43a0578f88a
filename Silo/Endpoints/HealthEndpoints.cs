using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Switchboard.Silo.Hosting;

namespace Switchboard.Silo.Endpoints;

/// <summary><c>/health/live</c> (the process answers) and <c>/health/ready</c> (warmed up, active in the cluster, accepting sockets).</summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IServiceCollection AddSwitchboardHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<SiloReadyCheck>("silo", tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) }).AllowAnonymous();
        return endpoints;
    }

    private sealed class SiloReadyCheck(ISiloStatusOracle oracle, DrainState drain, SiloWarmUp warmUp) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (drain.IsDraining)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("draining: closing sockets with 1012"));
            }

            var status = oracle.CurrentStatus;
            if (status != SiloStatus.Active)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy($"silo {status}"));
            }

            // Active but not warmed up: users sent here now would wait for the JIT, pools and first activations.
            if (!warmUp.IsFinished)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("warming up"));
            }

            return Task.FromResult(HealthCheckResult.Healthy(warmUp.Incomplete is { } why ? $"silo active (warm-up {why})" : "silo active"));
        }
    }
}
