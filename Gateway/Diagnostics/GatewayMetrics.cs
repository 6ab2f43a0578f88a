using System.Diagnostics.Metrics;
using Switchboard.Gateway.Edges;
using Switchboard.Gateway.Proxy;

namespace Switchboard.Gateway.Diagnostics;

/// <summary>The gateway's instruments, on one meter.</summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "Switchboard.Gateway";

    public GatewayMetrics(IMeterFactory meterFactory, SiloProxyConfigProvider proxyConfig, ProxiedSockets sockets)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("switchboard.gateway.destinations", () => proxyConfig.Destinations.Count, "{silo}", "Silos published as proxy destinations");
        meter.CreateObservableGauge("switchboard.gateway.websockets", () => sockets.Count, "{connection}", "WebSockets proxied to the silos now");
    }
}
