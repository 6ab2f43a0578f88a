using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;
using Switchboard.Cluster;
using Switchboard.Cluster.Security;
using Switchboard.Gateway.Diagnostics;
using Switchboard.Gateway.Hosting;

namespace Switchboard.Gateway.Discovery;

/// <summary>
/// The active silos as the cluster's membership knows them: the gateway is an Orleans client (Redis
/// clustering) and asks <see cref="IClusterDirectoryGrain"/>. The client runs in a small host of its own,
/// connected in the background with retries, so a gateway started before any silo still starts, answers its
/// health endpoints and 503s, and begins to serve once a silo is up.
/// </summary>
public sealed class ClusterDirectorySource(
    IConfiguration configuration,
    IOptions<GatewayHostOptions> options,
    IOptions<GatewayInternalTlsOptions> internalTls,
    ILoggerFactory loggerFactory) : ISiloSource, IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly ILogger _logger = loggerFactory.CreateLogger<ClusterDirectorySource>();
    private IHost? _clientHost;
    private volatile IClusterClient? _client;
    private Task _connecting = Task.CompletedTask;
    private Task? _stopped;
    private int _disposed;

    public async Task<IReadOnlyList<SiloDestination>> GetSilosAsync(CancellationToken cancellationToken)
    {
        var client = _client ?? throw new InvalidOperationException("not connected to the cluster yet");
        var silos = await client.GetGrain<IClusterDirectoryGrain>(0).GetHttpEndpointsAsync().WaitAsync(options.Value.DiscoveryTimeout, cancellationToken);
        return [.. silos.Select(s => new SiloDestination(s.Silo.ToParsableString(), s.Name, s.Url.TrimEnd('/')))];
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _clientHost = BuildClientHost();
        _connecting = ConnectAsync(_clientHost, _stopping.Token);
        return Task.CompletedTask;
    }

    /// <summary>Stops the client once, however often it is called (the test host may stop hosted services twice).</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _stopped ??= StopClientAsync();
        }

        return _stopped.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        // Registered under three service types, so disposed three times; and never while it is stopping.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopAsync(CancellationToken.None);
        if (_clientHost is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task StopClientAsync()
    {
        await _stopping.CancelAsync();
        await _connecting;
        if (_client is not null && _clientHost is not null)
        {
            _client = null;
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _clientHost.StopAsync(bounded.Token);
        }
    }

    private async Task ConnectAsync(IHost host, CancellationToken stopping)
    {
        try
        {
            // Returns once a silo's gateway answered; until then the retry filter keeps trying.
            await host.StartAsync(stopping);
            _client = host.Services.GetRequiredService<IClusterClient>();
            GatewayLog.ClusterConnected(_logger, options.Value.ClusterId);
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Stopped before any silo was found.
        }
        catch (Exception exception)
        {
            GatewayLog.ClusterConnectFailed(_logger, exception);
        }
    }

    private IHost BuildClientHost()
    {
        var gateway = options.Value;
        var redis = configuration.GetConnectionString("Redis")!;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

        // The gateway's logging (filters, providers) and no console lifetime of its own: the outer host owns signals.
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = gateway.ClusterId;
                o.ServiceId = gateway.ServiceId;
            });
            client.UseInternalTls(internalTls.Value);
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = gateway.DiscoveryTimeout);

            // The client's own list of silo gateways (for its connection, not for destinations): refreshed
            // often enough that it finds a new silo soon after the one it used died.
            client.Configure<Orleans.Configuration.GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            client.Services.AddSingleton<IClientConnectionRetryFilter>(new RetryUntilStopped(gateway.DiscoveryPeriod, _logger));
        });
        return builder.Build();
    }

    /// <summary>Keeps trying to reach a silo until the gateway stops: the cluster may start after the gateway.</summary>
    private sealed class RetryUntilStopped(TimeSpan delay, ILogger logger) : IClientConnectionRetryFilter
    {
        private int _attempts;

        public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _attempts) == 1)
            {
                GatewayLog.WaitingForCluster(logger, exception.GetType().Name);
            }

            try
            {
                await Task.Delay(delay, cancellationToken);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
