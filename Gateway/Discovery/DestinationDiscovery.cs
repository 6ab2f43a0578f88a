using Microsoft.Extensions.Options;
using Switchboard.Gateway.Diagnostics;
using Switchboard.Gateway.Hosting;
using Switchboard.Gateway.Proxy;

namespace Switchboard.Gateway.Discovery;

/// <summary>
/// Asks the silo source every <see cref="GatewayHostOptions.DiscoveryPeriod"/> and publishes the answer as
/// the proxy's destinations. A failed question changes nothing: the last known silos keep serving (a Redis
/// outage must not empty the gateway); the active and passive health checks still take a dead silo out.
/// </summary>
public sealed class DestinationDiscovery(
    ISiloSource source,
    SiloProxyConfigProvider proxyConfig,
    IOptions<GatewayHostOptions> options,
    TimeProvider time,
    ILogger<DestinationDiscovery> logger) : BackgroundService
{
    private bool _failing;

    /// <summary>One discovery round; public so tests can drive it without timers.</summary>
    public async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<SiloDestination> silos;
        try
        {
            silos = await source.GetSilosAsync(cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            if (!_failing)
            {
                _failing = true;
                GatewayLog.DiscoveryFailed(logger, proxyConfig.Destinations.Count, exception.GetType().Name, exception.Message);
            }

            return;
        }

        if (_failing)
        {
            _failing = false;
            GatewayLog.DiscoveryRecovered(logger);
        }

        var previous = proxyConfig.Destinations;
        if (proxyConfig.Update(silos))
        {
            foreach (var added in silos.ExceptBy(previous.Select(p => p.Id), s => s.Id))
            {
                GatewayLog.DestinationAdded(logger, added.Name, added.Url);
            }

            foreach (var removed in previous.ExceptBy(silos.Select(s => s.Id), p => p.Id))
            {
                GatewayLog.DestinationRemoved(logger, removed.Name, removed.Url);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.DiscoveryPeriod, time);
        try
        {
            do
            {
                await PollOnceAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
