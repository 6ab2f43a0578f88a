using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Switchboard.Gateway.Hosting;
using Yarp.ReverseProxy.Forwarder;

namespace Switchboard.Gateway.Proxy;

/// <summary>
/// The HTTP client to the silos: YARP's, with a connect timeout so a silo that vanished fails fast (and is marked by
/// the passive check), and WebSocket upgrades on connections of their own.
/// </summary>
public sealed class SiloHttpClientFactory(IOptions<GatewayHostOptions> options, ILogger<ForwarderHttpClientFactory> logger) : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectTimeout = options.Value.ConnectTimeout;
        handler.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60);
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler)
    {
        // The same settings, but a connection is never reused: an upgrade must be the first request on its connection.
        // YARP's factory cannot clone its handler: these are the defaults it sets before ConfigureHandler (YARP 2.3).
        var upgrades = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ActivityHeadersPropagator = (handler as SocketsHttpHandler)?.ActivityHeadersPropagator,
        };
        ConfigureHandler(context, upgrades);
        upgrades.PooledConnectionLifetime = TimeSpan.Zero;
        return new UpgradesApart(base.WrapHandler(context, handler), upgrades);
    }

    /// <summary>
    /// Sends WebSocket upgrades over fresh connections and everything else over the pooled ones. A silo takes a plain
    /// upgrade at its connection layer, before HTTP, only when it is the first request on its connection (the silo's
    /// ConnectionUpgrade); an upgrade sent on a pooled connection that carried a REST call or a health probe before
    /// is left to the silo's HTTP layer, which keeps ~4 KiB more per socket. Measured with one pool: clients that
    /// fetch a token and then connect had about half of their upgrades reach the silo on a reused connection. An
    /// upgraded connection never returns to a pool anyway, so this costs nothing.
    /// </summary>
    private sealed class UpgradesApart(HttpMessageHandler pooled, SocketsHttpHandler upgrades) : DelegatingHandler(pooled)
    {
        private readonly HttpMessageInvoker _upgrades = new(upgrades, disposeHandler: true);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.Headers.Contains(HeaderNames.Upgrade) ? _upgrades.SendAsync(request, cancellationToken) : base.SendAsync(request, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _upgrades.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
