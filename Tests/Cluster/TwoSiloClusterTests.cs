using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>Two real silo processes on Redis membership and MariaDB storage.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class TwoSiloClusterTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task Two_silo_processes_form_a_cluster_and_route_messages_between_their_sockets()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var one = await cluster.StartSiloAsync("silo-1");
        var two = await cluster.StartSiloAsync("silo-2");
        using var api = new ApiClient(one.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var teacher = SiloHostFixture.NewId("teacher");

        await using var a = await SocketClient.ConnectAsync(one.BaseAddress, await api.TokenAsync(alice));
        await using var b = await SocketClient.ConnectAsync(two.BaseAddress, await api.TokenAsync(bob));
        await using var t = await SocketClient.ConnectAsync(two.BaseAddress, await api.TokenAsync(teacher, "teacher"));
        Assert.Equal("silo-1", a.Welcome.Str("node"));
        Assert.Equal("silo-2", b.Welcome.Str("node"));

        var toBob = await a.SendMessageAsync($"user:{bob}", new { text = "across silos" });
        Assert.Equal("ack", toBob.Type());
        await b.WaitForMessageAsync(toBob.Str("conversation")!, 1);
        var toAlice = await b.SendMessageAsync($"user:{alice}", new { text = "and back" });
        await a.WaitForMessageAsync(toAlice.Str("conversation")!, 2);

        var group = SiloHostFixture.NewId("class");
        var teacherToken = await api.TokenAsync(teacher, "teacher");
        Assert.Equal(201, (await api.PutAsync($"/api/groups/{group}", teacherToken, new { policy = "members" })).Status);
        Assert.Equal(200, (await api.PutAsync($"/api/groups/{group}/members/{alice}", teacherToken, new { role = "member" })).Status);
        Assert.Equal(200, (await api.PutAsync($"/api/groups/{group}/members/{bob}", teacherToken, new { role = "member" })).Status);

        // The directory the gateway reads: both silos, each with the HTTP address it listens on.
        var (status, silos) = await api.GetAsync("/api/cluster/silos", await api.TokenAsync(SiloHostFixture.NewId("ops"), "admin"));
        Assert.Equal(200, status);
        Assert.Equal(
            new[] { ("silo-1", one.BaseAddress.GetLeftPart(UriPartial.Authority)), ("silo-2", two.BaseAddress.GetLeftPart(UriPartial.Authority)) },
            silos.EnumerateArray().Select(s => (s.GetProperty("name").GetString()!, s.GetProperty("url").GetString()!)));

        var post = await t.SendMessageAsync($"group:{group}", new { text = "lesson" });
        Assert.Equal("ack", post.Type());
        await a.WaitForMessageAsync($"group:{group}", 1);
        await b.WaitForMessageAsync($"group:{group}", 1);
    }
}
