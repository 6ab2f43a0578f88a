using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>What a silo believes about its clients, read from its own log as an operator would.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class EdgeTrustTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task A_silo_believes_X_Forwarded_For_only_from_its_trusted_proxies_and_never_logs_the_token()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var untrusting = await cluster.StartSiloAsync("untrusting");
        var trusting = await cluster.StartSiloAsync("trusting", new Dictionary<string, string?> { ["Switchboard__Silo__TrustedProxies__0"] = "127.0.0.1" });
        using var api = new ApiClient(untrusting.BaseAddress);
        var spoofer = SiloHostFixture.NewId("spoofer");
        var proxied = SiloHostFixture.NewId("proxied");
        var spooferToken = await api.TokenAsync(spoofer);
        var proxiedToken = await api.TokenAsync(proxied);

        // A client claiming to be someone else, straight to a silo that trusts no proxy; the token in the query.
        await using (var direct = await ConnectAsync(untrusting, spooferToken, "203.0.113.7"))
        {
            Assert.Equal("pong", (await direct.RequestAsync(new { type = "ping", id = "p" })).Type());
        }

        // The same header from an address the silo trusts (as the gateway's): believed.
        await using (var viaProxy = await ConnectAsync(trusting, proxiedToken, "198.51.100.23"))
        {
            Assert.Equal("pong", (await viaProxy.RequestAsync(new { type = "ping", id = "p" })).Type());
        }

        var untrustingLog = await Logged(untrusting, spoofer);
        Assert.Contains("from 127.0.0.1", untrustingLog);
        Assert.DoesNotContain("203.0.113.7", untrustingLog);
        Assert.Contains("from 198.51.100.23", await Logged(trusting, proxied));

        foreach (var silo in cluster.Silos)
        {
            var log = await File.ReadAllTextAsync(silo.LogFile);
            Assert.DoesNotContain(spooferToken, log);
            Assert.DoesNotContain(proxiedToken, log);
            Assert.DoesNotContain("access_token=", log);
        }
    }

    private static Task<SocketClient> ConnectAsync(Infrastructure.Servers.SiloProcess silo, string token, string forwardedFor) =>
        SocketClient.ConnectAsync(silo.BaseAddress, token, useQuery: true, forwardedFor: forwardedFor);

    private static async Task<string> Logged(Infrastructure.Servers.SiloProcess silo, string user)
    {
        string line = string.Empty;
        await Wait.UntilAsync(async () =>
        {
            var lines = await File.ReadAllLinesAsync(silo.LogFile);
            line = lines.FirstOrDefault(l => l.Contains($"of {user} opened", StringComparison.Ordinal)) ?? string.Empty;
            return line.Length > 0;
        }, $"{silo.Name} logs the connection of {user}");
        return line;
    }
}
