using Switchboard.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Switchboard.Tests.Gateway;

/// <summary>Clients on wss through the gateway (real TLS), silos as real processes on Redis and MariaDB.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class GatewayRoutingTests(DurableClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Two_clients_through_the_gateway_one_on_http1_one_on_http2_land_on_different_silos_and_exchange_messages()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await cluster.StartSiloAsync("silo-1");
        await cluster.StartSiloAsync("silo-2");
        await using var gateway = new GatewayFactory(cluster);
        await gateway.WaitForDestinationsAsync(["silo-1", "silo-2"]);
        using var api = gateway.Api();
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");

        await using var a = await gateway.ConnectAsync(await api.TokenAsync(alice));
        var otherNode = a.Welcome.Str("node") == "silo-1" ? "silo-2" : "silo-1";
        await using var b = await gateway.ConnectToNodeAsync(await api.TokenAsync(bob), otherNode, http2: true);
        output.WriteLine($"alice on {a.Welcome.Str("node")} (HTTP/1.1 upgrade, {a.UpgradeStatus}), bob on {b.Welcome.Str("node")} (HTTP/2 extended CONNECT, {b.UpgradeStatus}), over {gateway.BaseAddress}");
        Assert.NotEqual(a.Welcome.Str("node"), b.Welcome.Str("node"));
        Assert.Equal(101, a.UpgradeStatus);
        Assert.Equal(200, b.UpgradeStatus);

        var toBob = await a.SendMessageAsync($"user:{bob}", new { text = "through the gateway" });
        Assert.Equal("ack", toBob.Type());
        var received = await b.WaitForMessageAsync(toBob.Str("conversation")!, 1);
        Assert.Equal(alice, received.Str("from"));
        var toAlice = await b.SendMessageAsync($"user:{alice}", new { text = "and back" });
        await a.WaitForMessageAsync(toAlice.Str("conversation")!, 2);

        // REST goes through the same routes.
        var (status, history) = await api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages?after=0", await api.TokenAsync(alice));
        Assert.Equal(200, status);
        Assert.Equal([1L, 2L], Protocol.Seqs(history.EnumerateArray()));
    }
}
