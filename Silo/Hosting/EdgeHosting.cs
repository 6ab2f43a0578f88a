using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Switchboard.Silo.Hosting;

/// <summary>Whom the silo believes about a request's origin: the gateways in <c>Switchboard:Silo:TrustedProxies</c>, nobody else.</summary>
public static class EdgeHosting
{
    public static IHostApplicationBuilder AddSwitchboardEdge(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<SiloHostOptions>>((forwarded, silo) =>
        {
            // The client's address and scheme as the gateway saw them, believed from the configured gateways only
            // (ASP.NET Core's defaults would trust any loopback sender). With no trusted proxy nothing is
            // applied: the middleware checks senders only while its lists are non-empty, and trusts all otherwise.
            forwarded.ForwardedHeaders = silo.Value.TrustedProxies.Length == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in silo.Value.TrustedProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });
        return builder;
    }
}
