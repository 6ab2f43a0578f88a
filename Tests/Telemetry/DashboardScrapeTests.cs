using System.Net.Security;
using Switchboard.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Switchboard.Tests.Telemetry;

/// <summary>
/// The Grafana dashboard against what a real silo process (MariaDB log, Redis membership) and a real gateway expose:
/// after some traffic, every metric name every panel's query reads is in one of their scrapes.
/// </summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class DashboardScrapeTests(DurableClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Every_metric_the_Grafana_dashboard_queries_is_exposed_by_a_silo_or_the_gateway()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var silo = await cluster.StartSiloAsync("silo-1");
        await using var gateway = new GatewayFactory(cluster, new Dictionary<string, string?> { ["Switchboard:Gateway:OpenSocketsPerAddress"] = "2" });
        await gateway.WaitForDestinationsAsync(["silo-1"]);
        using var api = gateway.Api();
        var alice = SiloHostFixture.NewId("dash");
        var bob = SiloHostFixture.NewId("dash");

        // Traffic that moves every counter a panel reads: a refused token (401), a message sent, committed and
        // delivered, a frame refused with an error code, a third socket from the same address (429).
        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(gateway.BaseAddress, "not-a-token", certificateValidation: gateway.ValidateCertificate));
        await using var sender = await gateway.ConnectAsync(await api.TokenAsync(alice));
        await using var receiver = await gateway.ConnectAsync(await api.TokenAsync(bob));
        var ack = await sender.SendMessageAsync($"user:{bob}", new { text = "for the dashboard" });
        Assert.Equal("ack", ack.Type());
        await receiver.WaitForMessageAsync(ack.Str("conversation")!, 1);
        Assert.Equal("error", (await sender.RequestAsync(new { type = "no-such-frame", id = "bad-1" })).Type());
        Assert.Equal(429, await SocketClient.TryConnectStatusAsync(gateway.BaseAddress, await api.TokenAsync(alice), certificateValidation: gateway.ValidateCertificate));

        var queries = PrometheusText.DashboardQueries(await File.ReadAllTextAsync(DashboardQueryTests.DashboardPath));
        using var siloHttp = new HttpClient { BaseAddress = silo.BaseAddress };
        using var gatewayHttp = new HttpClient(new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = gateway.ValidateCertificate } })
        {
            BaseAddress = gateway.BaseAddress,
        };
        HashSet<string> fromSilo = [], fromGateway = [];
        IReadOnlyList<string> missing = [];
        try
        {
            // The exporter caches a scrape for a moment: wait for the traffic's series rather than assume them.
            await Wait.UntilAsync(async () =>
            {
                fromSilo = PrometheusText.SeriesNames(await siloHttp.GetStringAsync("/metrics"));
                fromGateway = PrometheusText.SeriesNames(await gatewayHttp.GetStringAsync("/metrics"));
                missing = PrometheusText.Missing(queries, fromSilo.Union(fromGateway).ToHashSet(StringComparer.Ordinal));
                return missing.Count == 0;
            }, "every dashboard metric is exposed", TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            Assert.Fail("Dashboard queries read metrics nobody exposes:\n" + string.Join("\n", missing));
        }

        output.WriteLine($"{queries.Count} queries over {queries.SelectMany(q => q.Names).Distinct().Count()} metrics; the silo exposes {fromSilo.Count} series names, the gateway {fromGateway.Count}");
        Assert.Contains(fromSilo, n => n.StartsWith("switchboard_log_", StringComparison.Ordinal));
        Assert.Contains(fromSilo, n => n.StartsWith("orleans_", StringComparison.Ordinal));
        Assert.Contains(fromGateway, n => n.StartsWith("switchboard_gateway_", StringComparison.Ordinal));

        // The gateway's Orleans client (discovery) publishes Orleans' meter too.
        Assert.Contains(fromGateway, n => n.StartsWith("orleans_", StringComparison.Ordinal));
    }
}
