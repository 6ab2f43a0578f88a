using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class RetentionTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task Resume_says_not_recovered_when_retention_dropped_what_was_asked_for()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var silo = await cluster.StartSiloAsync("silo", new Dictionary<string, string?>
        {
            ["Switchboard__MessageLog__Retention"] = "1.00:00:00",
            ["Switchboard__MessageLog__RetentionSweepPeriod"] = "00:00:10",
            // Three of the log's four messages expire at once, more than the default half a sweep may delete.
            ["Switchboard__MessageLog__RetentionMaxSweepFraction"] = "1",
        });
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var sender = await SocketClient.ConnectAsync(silo.BaseAddress, await api.TokenAsync(alice));
        string conversation = null!;
        for (var n = 1; n <= 4; n++)
        {
            conversation = (await sender.SendMessageAsync($"user:{bob}", new { n })).Str("conversation")!;
        }

        // Age the first three messages past the retention; the next sweep deletes them (never the latest).
        await cluster.QueryAsync($"UPDATE sb_messages SET created_at = UTC_TIMESTAMP(6) - INTERVAL 3 DAY WHERE conversation = '{conversation}' AND seq <= 3");
        await Wait.UntilAsync(
            async () => (await cluster.QueryAsync($"SELECT COUNT(*) FROM sb_messages WHERE conversation = '{conversation}'")).Trim() == "1",
            "the retention sweep deletes seq 1 to 3",
            TimeSpan.FromSeconds(40));

        await using var reader = await SocketClient.ConnectAsync(silo.BaseAddress, await api.TokenAsync(bob));
        var resume = await reader.RequestAsync(new { type = "resume", id = "r", since = new Dictionary<string, long> { [conversation] = 0 } });
        Assert.False(resume.GetProperty("recovered").GetBoolean());
        Assert.Equal([4L], reader.Messages(conversation).Select(m => m.GetProperty("seq").GetInt64()));

        var fromKept = await reader.RequestAsync(new { type = "resume", id = "r2", since = new Dictionary<string, long> { [conversation] = 3 } });
        Assert.True(fromKept.GetProperty("recovered").GetBoolean());
    }
}
