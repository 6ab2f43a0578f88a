using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Switchboard.Gateway.Discovery;
using Switchboard.Gateway.Hosting;
using Switchboard.Gateway.Proxy;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Gateway;

/// <summary>Discovery publishes what the cluster says, and keeps the last known silos while it cannot ask.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class DestinationDiscoveryTests
{
    private static readonly SiloDestination One = new("S127.0.0.1:11111:1", "silo-1", "http://127.0.0.1:5001");
    private static readonly SiloDestination Two = new("S127.0.0.1:11112:1", "silo-2", "http://127.0.0.1:5002");

    [Fact]
    public async Task A_failed_discovery_keeps_the_last_known_destinations_and_warns_once_per_outage()
    {
        var source = new ScriptedSource();
        var logs = new CapturedLogs();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        var options = Options.Create(new GatewayHostOptions());
        var proxy = new SiloProxyConfigProvider(options);
        var discovery = new DestinationDiscovery(source, proxy, options, TimeProvider.System, loggers.CreateLogger<DestinationDiscovery>());

        source.Answer = () => [One, Two];
        await discovery.PollOnceAsync(CancellationToken.None);
        Assert.Equal(["silo-1", "silo-2"], proxy.Destinations.Select(d => d.Name));
        var published = proxy.GetConfig();
        Assert.Equal(["http://127.0.0.1:5001", "http://127.0.0.1:5002"], published.Clusters.Single().Destinations!.Values.Select(d => d.Address).Order());

        source.Answer = () => throw new TimeoutException("Redis is paused");
        for (var i = 0; i < 3; i++)
        {
            await discovery.PollOnceAsync(CancellationToken.None);
        }

        Assert.Equal(["silo-1", "silo-2"], proxy.Destinations.Select(d => d.Name));
        Assert.False(published.ChangeToken.HasChanged);
        Assert.Single(logs.Lines, l => l.Contains("[5012]", StringComparison.Ordinal));

        source.Answer = () => [Two];
        await discovery.PollOnceAsync(CancellationToken.None);
        Assert.Equal(["silo-2"], proxy.Destinations.Select(d => d.Name));
        Assert.True(published.ChangeToken.HasChanged);
        Assert.Single(logs.Lines, l => l.Contains("[5013]", StringComparison.Ordinal));
        Assert.Single(logs.Lines, l => l.Contains("[5011]", StringComparison.Ordinal) && l.Contains("silo-1", StringComparison.Ordinal));

        // The same answer again publishes nothing new.
        var current = proxy.GetConfig();
        await discovery.PollOnceAsync(CancellationToken.None);
        Assert.Same(current, proxy.GetConfig());

        // A second outage warns again.
        source.Answer = () => throw new TimeoutException("Redis is paused again");
        await discovery.PollOnceAsync(CancellationToken.None);
        Assert.Equal(2, logs.Lines.Count(l => l.Contains("[5012]", StringComparison.Ordinal)));
    }

    private sealed class ScriptedSource : ISiloSource
    {
        public Func<IReadOnlyList<SiloDestination>> Answer { get; set; } = () => [];

        public Task<IReadOnlyList<SiloDestination>> GetSilosAsync(CancellationToken cancellationToken) => Task.FromResult(Answer());
    }
}
