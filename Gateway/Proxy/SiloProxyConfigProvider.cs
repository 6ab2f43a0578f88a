using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Switchboard.Gateway.Discovery;
using Switchboard.Gateway.Hosting;
using Yarp.ReverseProxy.Configuration;

namespace Switchboard.Gateway.Proxy;

/// <summary>
/// YARP's configuration: the static routes and cluster of <see cref="GatewayRoutes"/> with the silos discovery
/// found as destinations. A new set of silos publishes a new snapshot and fires the old one's change token.
/// </summary>
public sealed class SiloProxyConfigProvider(IOptions<GatewayHostOptions> options) : IProxyConfigProvider
{
    private readonly Lock _lock = new();
    private Snapshot _current = new([], GatewayRoutes.Routes, [GatewayRoutes.Cluster(options.Value, new Dictionary<string, DestinationConfig>())]);

    /// <summary>The silos currently published as destinations.</summary>
    public IReadOnlyList<SiloDestination> Destinations => _current.Silos;

    public IProxyConfig GetConfig() => _current;

    /// <summary>Publishes <paramref name="silos"/>; returns false (and changes nothing) when they are the current ones.</summary>
    public bool Update(IReadOnlyList<SiloDestination> silos)
    {
        Snapshot previous;
        lock (_lock)
        {
            previous = _current;
            var ordered = silos.DistinctBy(s => s.Id).OrderBy(s => s.Id, StringComparer.Ordinal).ToArray();
            if (ordered.SequenceEqual(previous.Silos))
            {
                return false;
            }

            var destinations = ordered.ToDictionary(s => s.Id, s => new DestinationConfig { Address = s.Url }, StringComparer.Ordinal);
            _current = new Snapshot(ordered, GatewayRoutes.Routes, [GatewayRoutes.Cluster(options.Value, destinations)]);
        }

        previous.Changed();
        return true;
    }

    private sealed class Snapshot(IReadOnlyList<SiloDestination> silos, IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters) : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public IReadOnlyList<SiloDestination> Silos { get; } = silos;

        public IReadOnlyList<RouteConfig> Routes { get; } = routes;

        public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;

        public IChangeToken ChangeToken => new CancellationChangeToken(_changed.Token);

        public void Changed() => _changed.Cancel();
    }
}
