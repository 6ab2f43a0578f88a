using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Telemetry;

/// <summary>
/// The silo's Prometheus scrape endpoint (<c>/metrics</c>): Switchboard's and Orleans' series in the text format, and
/// each exposure (Off, Local, Admin, Open) letting in exactly whom docs/configuration.md says.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class ScrapeEndpointTests(SiloHostFixture host)
{
    [Fact]
    public async Task A_silo_serves_Switchboard_and_Orleans_series_in_Prometheus_text_format_with_send_durations_in_seconds()
    {
        var alice = SiloHostFixture.NewId("scrape");
        var bob = SiloHostFixture.NewId("scrape");
        await using var socket = await host.ConnectAsync(alice);
        Assert.Equal("ack", (await socket.SendMessageAsync($"user:{bob}", new { text = "measured" })).Type());
        using var http = new HttpClient { BaseAddress = host.BaseAddress };

        string text = "";
        await Wait.UntilAsync(async () =>
        {
            text = await http.GetStringAsync("/metrics");
            return text.Contains("switchboard_send_duration_seconds_bucket", StringComparison.Ordinal);
        }, "the scrape shows the send duration");
        using var response = await http.GetAsync("/metrics");

        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var names = PrometheusText.SeriesNames(text);
        Assert.Contains("switchboard_connections", names);
        Assert.Contains("switchboard_frames_received_total", names);
        Assert.Contains("orleans_catalog_activations", names);
        Assert.Contains("# TYPE switchboard_send_duration_seconds histogram", text);

        // Seconds, with buckets below a millisecond: a local ack lands in one of them, not in a millisecond's.
        Assert.Contains("switchboard_send_duration_seconds_bucket{otel_scope_name=\"Switchboard.Silo\",le=\"0.0005\"}", text);
        Assert.DoesNotContain(alice, text);
        Assert.DoesNotContain(bob, text);
    }

    [Fact]
    public async Task Off_answers_404_and_admin_wants_an_admin_token()
    {
        await using var off = new SiloHostFactory(new Dictionary<string, string?> { ["Switchboard:Telemetry:Prometheus"] = "Off" });
        using var offClient = new HttpClient { BaseAddress = off.BaseAddress };
        Assert.Equal(HttpStatusCode.NotFound, (await offClient.GetAsync("/metrics")).StatusCode);

        await using var admin = new SiloHostFactory(new Dictionary<string, string?> { ["Switchboard:Telemetry:Prometheus"] = "Admin" });
        using var adminClient = new HttpClient { BaseAddress = admin.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await adminClient.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(adminClient, TestTokens.Mint("scrape-student", "student"))).StatusCode);
        using var scraped = await GetAsync(adminClient, TestTokens.Mint("scrape-admin", "admin"));
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Contains("switchboard_connections", await scraped.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Local_refuses_a_client_a_trusted_proxy_forwards_and_a_custom_path_moves_the_endpoint()
    {
        await using var silo = new SiloHostFactory(new Dictionary<string, string?>
        {
            ["Switchboard:Silo:TrustedProxies:0"] = "127.0.0.1",
            ["Switchboard:Telemetry:ScrapePath"] = "/internal/metrics",
        });
        using var http = new HttpClient { BaseAddress = silo.BaseAddress };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/internal/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);

        // The proxy is loopback, the client it speaks for is not: the client's address decides.
        using var forwarded = new HttpRequestMessage(HttpMethod.Get, "/internal/metrics");
        forwarded.Headers.Add("X-Forwarded-For", "203.0.113.9");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(forwarded)).StatusCode);
    }

    [Fact]
    public async Task A_scrape_network_that_is_not_CIDR_stops_the_silo_at_start()
    {
        var silo = new SiloHostFactory(new Dictionary<string, string?> { ["Switchboard:Telemetry:ScrapeNetworks:0"] = "10.0.3.0/33" });
        var refused = await silo.StartExpectingRefusalAsync();
        Assert.Contains("ScrapeNetworks", refused?.ToString() ?? "it started");
    }

    [Fact]
    public async Task The_gateway_serves_its_series_on_loopback_refuses_Admin_and_never_proxies_a_silos_metrics()
    {
        await using var gateway = new GatewayFactory(host.BaseAddress);
        await Wait.UntilAsync(() => gateway.Destinations.Count == 1, "the gateway publishes the silo");
        using var http = Https(gateway);
        string text = "";
        await Wait.UntilAsync(async () =>
        {
            text = await http.GetStringAsync("/metrics");
            return text.Contains("switchboard_gateway_destinations", StringComparison.Ordinal);
        }, "the gateway's scrape shows its destinations");
        Assert.Contains("switchboard_gateway_destinations{otel_scope_name=\"Switchboard.Gateway\"} 1", text);
        Assert.DoesNotContain("switchboard_connections", text);

        // Off: the path is the gateway's 404; no route sends it to a silo.
        await using var off = new GatewayFactory(host.BaseAddress, new Dictionary<string, string?> { ["Switchboard:Telemetry:Prometheus"] = "Off" });
        await Wait.UntilAsync(() => off.Destinations.Count == 1, "the gateway publishes the silo");
        using var offHttp = Https(off);
        Assert.Equal(HttpStatusCode.NotFound, (await offHttp.GetAsync("/metrics")).StatusCode);

        var admin = new GatewayFactory(host.BaseAddress, new Dictionary<string, string?> { ["Switchboard:Telemetry:Prometheus"] = "Admin" });
        var refused = Record.Exception(() => admin.BaseAddress);
        Assert.Contains("Admin", refused?.ToString() ?? "it started");
        try
        {
            await admin.DisposeAsync();
        }
        catch (Exception)
        {
            // A gateway that never started may fail to stop as well.
        }
    }

    private static Task<HttpResponseMessage> GetAsync(HttpClient http, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }

    private static HttpClient Https(GatewayFactory gateway) =>
        new(new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = gateway.ValidateCertificate } })
        {
            BaseAddress = gateway.BaseAddress,
        };
}
