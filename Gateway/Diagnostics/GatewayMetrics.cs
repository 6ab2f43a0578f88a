using System.Diagnostics.Metrics;
using Switchboard.Gateway.Edges;
using Switchboard.Gateway.Proxy;

namespace Switchboard.Gateway.Diagnostics;

/// <summary>The gateway's instruments, on one meter.</summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "Switchboard.Gateway";

    private readonly Counter<long> _rejections;
    private readonly Counter<long> _unauthorized;

    public GatewayMetrics(IMeterFactory meterFactory, SiloProxyConfigProvider proxyConfig, ProxiedSockets sockets)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("switchboard.gateway.destinations", () => proxyConfig.Destinations.Count, "{silo}", "Silos published as proxy destinations");
        meter.CreateObservableGauge("switchboard.gateway.websockets", () => sockets.Count, "{connection}", "WebSockets proxied to the silos now");
        _unauthorized = meter.CreateCounter<long>("switchboard.gateway.unauthorized", "{request}", "Socket upgrades refused with 401 by the gateway before any silo saw them, by reason (missing, invalid)");
        _rejections = meter.CreateCounter<long>("switchboard.gateway.rejections", "{request}", "Requests refused with 429 by a per-address limit, by limit (requests, upgrades, sockets); never by address");
    }

    public void Unauthorized(string reason) => _unauthorized.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Rejected(string limit) => _rejections.Add(1, new KeyValuePair<string, object?>("limit", limit));
}
