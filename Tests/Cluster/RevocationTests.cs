using System.Net.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>Admin disconnects across two silo processes, and revocations stored in MariaDB across a whole-cluster restart.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class RevocationTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task A_disconnect_closes_the_users_sockets_on_every_silo_and_survives_a_restart_of_the_whole_cluster()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var one = await cluster.StartSiloAsync("silo-1");
        var two = await cluster.StartSiloAsync("silo-2");
        var alice = SiloHostFixture.NewId("alice");
        using var api = new ApiClient(one.BaseAddress);
        var old = await api.TokenAsync(alice);
        await using var onOne = await SocketClient.ConnectAsync(one.BaseAddress, old);
        await using var onTwo = await SocketClient.ConnectAsync(two.BaseAddress, old);
        Assert.Equal("silo-2", onTwo.Welcome.Str("node"));

        var (status, body) = await api.DeleteAsync($"/api/users/{alice}/connections", await api.TokenAsync(SiloHostFixture.NewId("ops"), "admin"));

        Assert.Equal(200, status);
        Assert.Equal(2, body.GetProperty("closed").GetInt32());
        Assert.Equal(2, body.GetProperty("silos").GetInt32());
        Assert.Equal((WebSocketCloseStatus)4003, await onOne.WaitForCloseAsync());
        Assert.Equal((WebSocketCloseStatus)4003, await onTwo.WaitForCloseAsync());
        using (var atTwo = new ApiClient(two.BaseAddress))
        {
            Protocol.AssertProblem(await atTwo.GetAsync($"/api/users/{alice}/conversations", old), 401, "unauthorized");
        }

        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(two.BaseAddress, old));

        await Task.WhenAll(one.StopAsync(), two.StopAsync());
        cluster.NewClusterId();
        var three = await cluster.StartSiloAsync("silo-3");

        using var after = new ApiClient(three.BaseAddress);
        Protocol.AssertProblem(await after.GetAsync($"/api/users/{alice}/conversations", old), 401, "unauthorized");
        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(three.BaseAddress, old));

        // Signing in again after the disconnect's moment works.
        var before = body.GetProperty("revokedBefore").GetDateTimeOffset();
        await Wait.UntilAsync(() => DateTimeOffset.UtcNow >= before, "the clock to pass the disconnect's moment");
        var fresh = await after.TokenAsync(alice);
        await using var socket = await SocketClient.ConnectAsync(three.BaseAddress, fresh);
        await socket.PingAsync();
    }
}
