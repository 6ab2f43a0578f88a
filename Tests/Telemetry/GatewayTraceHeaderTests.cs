using System.Net.Security;
using Switchboard.Gateway.Hosting;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Telemetry;

/// <summary>A client's trace context stops at the gateway: no client chooses a silo's trace id or forces it to sample.</summary>
[Trait(Category.Name, Category.Cluster)]
public sealed class GatewayTraceHeaderTests
{
    [Fact]
    public async Task Traceparent_tracestate_and_baggage_from_a_client_never_reach_a_silo()
    {
        await using var silo = await StandInSilo.StartAsync();
        await using var gateway = new GatewayFactory(silo.BaseAddress);
        await Wait.UntilAsync(() => gateway.Destinations.Count == 1, "the gateway publishes the stand-in silo");
        using var http = new HttpClient(new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = gateway.ValidateCertificate } })
        {
            BaseAddress = gateway.BaseAddress,
        };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/conversations");
        request.Headers.TryAddWithoutValidation("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        request.Headers.TryAddWithoutValidation("tracestate", "vendor=forced");
        request.Headers.TryAddWithoutValidation("baggage", "user=alice");
        request.Headers.TryAddWithoutValidation("Request-Id", "|abc.1.");
        request.Headers.TryAddWithoutValidation("X-Kept", "yes");

        using var response = await http.SendAsync(request);

        Assert.Equal(StandInSilo.Status, (int)response.StatusCode);
        Assert.Contains("X-Kept", silo.LastHeaders, StringComparer.OrdinalIgnoreCase);
        foreach (var header in GatewayHosting.ClientTraceHeaders)
        {
            Assert.DoesNotContain(header, silo.LastHeaders, StringComparer.OrdinalIgnoreCase);
        }
    }
}
