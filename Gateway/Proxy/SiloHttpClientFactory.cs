using Microsoft.Extensions.Options;
using Switchboard.Gateway.Hosting;
using Yarp.ReverseProxy.Forwarder;

namespace Switchboard.Gateway.Proxy;

/// <summary>The HTTP client to the silos: YARP's, with a connect timeout so a silo that vanished fails fast (and is marked by the passive check).</summary>
public sealed class SiloHttpClientFactory(IOptions<GatewayHostOptions> options, ILogger<ForwarderHttpClientFactory> logger) : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectTimeout = options.Value.ConnectTimeout;
        handler.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60);
    }
}
