using System.Globalization;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;
using Xunit.Abstractions;

namespace Switchboard.Tests.Gateway;

[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class GatewayRedisOutageTests(DurableClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task With_Redis_paused_the_gateway_keeps_its_silos_and_new_clients_are_served_on_both()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await cluster.StartSiloAsync("silo-1");
        await cluster.StartSiloAsync("silo-2");
        await using var gateway = new GatewayFactory(cluster);
        await gateway.WaitForDestinationsAsync(["silo-1", "silo-2"]);
        using var api = gateway.Api();
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var aliceToken = await api.TokenAsync(alice);
        var bobToken = await api.TokenAsync(bob);

        // Membership's store goes silent (SIGSTOP, not a restart: a Redis without persistence comes back empty and breaks membership) for longer than a few discovery rounds.
        var redis = fixture.Redis.ProcessId.ToString(CultureInfo.InvariantCulture);
        await ChildProcesses.RunAsync("kill", ["-STOP", redis]);
        try
        {
            var paused = DateTime.UtcNow;
            await Wait.UntilAsync(() => DateTime.UtcNow - paused > TimeSpan.FromSeconds(5), "five discovery rounds pass with Redis paused");

            // New clients are still balanced over both silos, and messages flow between them.
            await using var a = await gateway.ConnectAsync(aliceToken);
            var other = a.Welcome.Str("node") == "silo-1" ? "silo-2" : "silo-1";
            await using var b = await gateway.ConnectToNodeAsync(bobToken, other);
            var sent = await a.SendMessageAsync($"user:{bob}", new { during = "redis pause" });
            Assert.Equal("ack", sent.Type());
            await b.WaitForMessageAsync(sent.Str("conversation")!, 1);
            output.WriteLine($"with Redis paused: alice on {a.Welcome.Str("node")}, bob on {b.Welcome.Str("node")}, message delivered");
        }
        finally
        {
            await ChildProcesses.RunAsync("kill", ["-CONT", redis]);
        }
    }
}
