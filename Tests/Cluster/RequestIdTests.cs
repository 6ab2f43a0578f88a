using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>Send ids end to end on the durable cluster: the client's id is compared exactly as written.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class RequestIdTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task Two_sends_whose_ids_differ_only_in_a_trailing_space_are_two_messages()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var silo = await cluster.StartSiloAsync("silo");
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var aliceToken = await api.TokenAsync(alice);
        await using var sender = await SocketClient.ConnectAsync(silo.BaseAddress, aliceToken);

        var first = await sender.SendMessageAsync($"user:{bob}", new { n = 1 }, id: "x");
        var second = await sender.SendMessageAsync($"user:{bob}", new { n = 2 }, id: "x ");

        // Before, the log's PAD SPACE collation made "x " a retry of "x": acked with seq 1 and never stored.
        Assert.Equal("ack", first.Type());
        Assert.Equal("ack", second.Type());
        Assert.Equal(1, first.GetProperty("seq").GetInt64());
        Assert.Equal(2, second.GetProperty("seq").GetInt64());
        var conversation = first.Str("conversation");
        var (status, history) = await api.GetAsync($"/api/conversations/{conversation}/messages?after=0", aliceToken);
        Assert.Equal(200, status);
        Assert.Equal(["x", "x "], history.EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray());
        Assert.Equal("2", (await cluster.QueryAsync($"SELECT COUNT(*) FROM sb_messages WHERE conversation = '{conversation}'")).Trim());
    }
}
