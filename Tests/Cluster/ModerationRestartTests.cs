using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>Moderation through a real silo on MariaDB: deletion erases the row's body; mutes and bans survive a restart.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class ModerationRestartTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task A_deleted_body_leaves_MariaDB_and_mutes_and_bans_outlive_a_restart_of_the_silo()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var teacher = SiloHostFixture.NewId("teacher");
        var muted = SiloHostFixture.NewId("muted");
        var banned = SiloHostFixture.NewId("banned");
        var group = SiloHostFixture.NewId("club");
        var conversation = $"group:{group}";

        // The cluster owns its silos (it disposes them): this one is only stopped.
        var silo = await cluster.StartSiloAsync("silo-1");
        using var api = new ApiClient(silo.BaseAddress);
        var token = await api.TokenAsync(teacher, "teacher");
        Assert.Equal(201, (await api.PutAsync($"/api/groups/{group}", token, new { policy = "open" })).Status);
        Assert.Equal(200, (await api.PostAsync("/api/messages", token, new { to = conversation, body = "the secret answer" })).Status);
        Assert.Equal(200, (await api.PostAsync("/api/messages", token, new { to = conversation, body = "kept" })).Status);
        Assert.Equal(200, (await api.PutAsync($"/api/groups/{group}/mutes/{muted}", token, new { })).Status);
        Assert.Equal(200, (await api.PutAsync($"/api/groups/{group}/bans/{banned}", token, new { })).Status);

        Assert.Equal(204, (await api.DeleteAsync($"/api/conversations/{conversation}/messages/1", token)).Status);

        Assert.Equal("1\t1\t1\n2\t0\t0", (await cluster.QueryAsync(
            $"SELECT seq, body IS NULL, deleted FROM sb_messages WHERE conversation = '{conversation}' ORDER BY seq")).Trim());
        Assert.Equal("0", (await cluster.QueryAsync("SELECT COUNT(*) FROM sb_messages WHERE body LIKE '%secret answer%'")).Trim());
        await silo.StopAsync();

        cluster.NewClusterId();
        var again = await cluster.StartSiloAsync("silo-2");
        using var after = new ApiClient(again.BaseAddress);
        var ownerToken = await after.TokenAsync(teacher, "teacher");
        var info = await after.GetAsync($"/api/groups/{group}", ownerToken);
        Assert.Equal(muted, Assert.Single(info.Body.GetProperty("mutes").EnumerateArray()).Str("user"));
        Assert.Equal(banned, Assert.Single(info.Body.GetProperty("bans").EnumerateArray()).Str("user"));
        Protocol.AssertProblem(await after.PostAsync("/api/messages", await after.TokenAsync(muted), new { to = conversation, body = "x" }), 403, "forbidden");
        Protocol.AssertProblem(await after.GetAsync($"/api/conversations/{conversation}/messages", await after.TokenAsync(banned)), 403, "forbidden");
        var history = await after.GetAsync($"/api/conversations/{conversation}/messages", ownerToken);
        Assert.True(history.Body[0].GetProperty("deleted").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, history.Body[0].GetProperty("body").ValueKind);
        Assert.Equal("kept", history.Body[1].Str("body"));
    }
}
