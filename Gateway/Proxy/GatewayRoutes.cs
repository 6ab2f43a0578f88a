using Switchboard.Gateway.Hosting;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.LoadBalancing;

namespace Switchboard.Gateway.Proxy;

/// <summary>
/// The gateway's static proxy configuration, in YARP's terms: which paths go to the silos and how the silos
/// are balanced and checked. Only the cluster's destinations change at run time (<see cref="SiloProxyConfigProvider"/>).
/// </summary>
public static class GatewayRoutes
{
    /// <summary>The one cluster: every active silo serves every route.</summary>
    public const string ClusterId = "silos";

    /// <summary>The route of the WebSocket endpoint (the Origin allow list applies to it).</summary>
    public const string SocketRouteId = "ws";

    /// <summary>The silos' dev token endpoints, proxied only when <see cref="GatewayHostOptions.RouteDevTokens"/> is on.</summary>
    public const string DevTokensPath = "/api/dev/{**rest}";

    public static IReadOnlyList<RouteConfig> Routes { get; } =
    [
        // The protocol's socket: upgraded over HTTP/1.1, or HTTP/2 extended CONNECT (YARP turns that into an
        // HTTP/1.1 upgrade to the silo).
        new RouteConfig { RouteId = SocketRouteId, ClusterId = ClusterId, Match = new RouteMatch { Path = "/ws" } },

        // REST: messages, groups, users, history, the cluster directory; dev tokens only when configured (the
        // gateway answers DevTokensPath itself otherwise, see GatewayHosting).
        new RouteConfig { RouteId = "api", ClusterId = ClusterId, Match = new RouteMatch { Path = "/api/{**rest}" } },

        // The Orleans Dashboard (admin tokens only; the silo enforces it). The catch-all also matches /dashboard.
        new RouteConfig { RouteId = "dashboard", ClusterId = ClusterId, Match = new RouteMatch { Path = "/dashboard/{**rest}" } },

        // The chat page.
        new RouteConfig { RouteId = "page", ClusterId = ClusterId, Match = new RouteMatch { Path = "/" } },
    ];

    public static ClusterConfig Cluster(GatewayHostOptions options, IReadOnlyDictionary<string, DestinationConfig> destinations) => new()
    {
        ClusterId = ClusterId,

        // Pick two silos at random and take the less busy: cheap, and never piles new sockets onto one silo.
        // No session affinity: any silo can hold any user's socket (the user grain learns where it is).
        LoadBalancingPolicy = LoadBalancingPolicies.PowerOfTwoChoices,
        HealthCheck = new HealthCheckConfig
        {
            // Active: a silo that is not ready (starting, draining, out of the cluster) stops getting new traffic.
            Active = new ActiveHealthCheckConfig
            {
                Enabled = true,
                Interval = options.HealthCheckInterval,
                Timeout = options.HealthCheckTimeout,
                Policy = "ConsecutiveFailures",
                Path = "/health/ready",
            },

            // Passive: a silo whose forwards fail at the transport (refused, reset) is left out at once,
            // before membership declares it dead, and tried again after the reactivation period.
            Passive = new PassiveHealthCheckConfig
            {
                Enabled = true,
                Policy = "TransportFailureRate",
                ReactivationPeriod = options.ReactivationPeriod,
            },
        },
        HttpClient = new HttpClientConfig
        {
            // Plain HTTP inside the cluster network; one pool per silo, large enough for every socket.
            MaxConnectionsPerServer = int.MaxValue,
        },
        HttpRequest = new ForwarderRequestConfig
        {
            // Idle time before a request or socket is cut; the silos' WebSocket pings keep live sockets busy.
            ActivityTimeout = options.ActivityTimeout,
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        },
        Destinations = destinations,
    };
}
