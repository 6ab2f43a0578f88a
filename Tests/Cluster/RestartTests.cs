using Switchboard.Grains.Groups;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class RestartTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task After_both_silos_restart_groups_conversations_and_history_are_intact()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var one = await cluster.StartSiloAsync("silo-1");
        var two = await cluster.StartSiloAsync("silo-2");
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var group = SiloHostFixture.NewId("club");
        string dm;
        using (var api = new ApiClient(one.BaseAddress))
        {
            var aliceToken = await api.TokenAsync(alice, "teacher");
            Assert.Equal(201, (await api.PutAsync($"/api/groups/{group}", aliceToken, new { policy = "members" })).Status);
            Assert.Equal(200, (await api.PutAsync($"/api/groups/{group}/members/{bob}", aliceToken, new { role = "member" })).Status);
            await using var a = await SocketClient.ConnectAsync(two.BaseAddress, aliceToken);
            for (var i = 1; i <= 3; i++)
            {
                Assert.Equal("ack", (await a.SendMessageAsync($"user:{bob}", new { n = i }, id: $"dm-{i}")).Type());
                Assert.Equal("ack", (await a.SendMessageAsync($"group:{group}", new { n = i }, id: $"gr-{i}")).Type());
            }

            dm = (await a.SendMessageAsync($"user:{bob}", new { n = 4 }, id: "dm-4")).Str("conversation")!;
        }

        await Task.WhenAll(one.StopAsync(), two.StopAsync());
        cluster.NewClusterId();
        var three = await cluster.StartSiloAsync("silo-3");
        var four = await cluster.StartSiloAsync("silo-4");

        using var after = new ApiClient(four.BaseAddress);
        var bobToken = await after.TokenAsync(bob);
        var (status, info) = await after.GetAsync($"/api/groups/{group}", bobToken);
        Assert.Equal(200, status);
        Assert.Equal("members", info.GetProperty("policy").GetString());
        Assert.Equal(2, info.GetProperty("members").GetArrayLength());

        var (_, list) = await after.GetAsync($"/api/users/{bob}/conversations", bobToken);
        var seqs = list.EnumerateArray().ToDictionary(c => c.GetProperty("conversation").GetString()!, c => c.GetProperty("seq").GetInt64());
        Assert.Equal(4, seqs[dm]);
        Assert.Equal(3, seqs[$"group:{group}"]);

        var (_, history) = await after.GetAsync($"/api/conversations/{dm}/messages?after=0", bobToken);
        Assert.Equal(["dm-1", "dm-2", "dm-3", "dm-4"], history.EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray());

        await using var b = await SocketClient.ConnectAsync(three.BaseAddress, bobToken);
        var resume = await b.RequestAsync(new { type = "resume", id = "r1", since = new Dictionary<string, long> { [dm] = 2, [$"group:{group}"] = 0 } });
        Assert.True(resume.GetProperty("recovered").GetBoolean());
        Assert.Equal([3L, 4L], b.Messages(dm).Select(m => m.GetProperty("seq").GetInt64()).ToArray());
        Assert.Equal([1L, 2L, 3L], b.Messages($"group:{group}").Select(m => m.GetProperty("seq").GetInt64()).ToArray());

        // Dedupe survived the restart: a retried id gets its original seq, and the next new message continues the numbering.
        await using var a2 = await SocketClient.ConnectAsync(four.BaseAddress, await after.TokenAsync(alice, "teacher"));
        var retried = await a2.SendMessageAsync($"user:{bob}", new { n = 2 }, id: "dm-2");
        Assert.Equal(2, retried.GetProperty("seq").GetInt64());
        Assert.Equal(5, (await a2.SendMessageAsync($"user:{bob}", new { n = 5 })).GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task A_group_spread_over_storage_buckets_is_whole_after_a_restart()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var generous = new Dictionary<string, string?> { ["Switchboard:Rest:RequestsPerUserBurst"] = "1000" };
        var one = await cluster.StartSiloAsync("silo-1", generous);
        var group = SiloHostFixture.NewId("lecture");
        var teacher = SiloHostFixture.NewId("teacher");
        var students = Enumerable.Range(0, GroupMembership.InlineMost + 20).Select(i => $"{group}-s{i:000}").ToArray();
        using (var api = new ApiClient(one.BaseAddress))
        {
            var token = await api.TokenAsync(teacher, "teacher");
            Assert.Equal(201, (await api.PutAsync($"/api/groups/{group}", token, new { policy = "members" })).Status);
            foreach (var student in students)
            {
                Assert.Equal(200, (await api.PutAsync($"/api/groups/{group}/members/{student}", token, new { role = "member" })).Status);
            }
        }

        // The members live in bucket rows of their own, beside the group's row, in MariaDB's grain storage.
        var buckets = await cluster.QueryAsync("SELECT COUNT(*) FROM OrleansStorage WHERE GrainTypeString LIKE 'group-members-1-%' AND PayloadBinary IS NOT NULL");
        Assert.Equal("2", buckets.Trim());

        await one.StopAsync();
        cluster.NewClusterId();
        var two = await cluster.StartSiloAsync("silo-2");
        using var after = new ApiClient(two.BaseAddress);
        var (status, info) = await after.GetAsync($"/api/groups/{group}", await after.TokenAsync(students[^1]));
        Assert.Equal(200, status);
        var members = info.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("user").GetString()!).ToArray();
        Assert.Equal([.. students.Append(teacher).Order(StringComparer.Ordinal)], members.Order(StringComparer.Ordinal).ToArray());
    }
}
