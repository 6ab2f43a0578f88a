using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>Protocol 1.1 read markers, receipts and typing on two real silo processes with Redis and MariaDB.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class ReadMarkersDurableTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task A_read_is_in_MariaDB_before_its_ack_and_its_receipt_and_typing_cross_silos()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var one = await cluster.StartSiloAsync("silo-1");
        var two = await cluster.StartSiloAsync("silo-2");
        using var api = new ApiClient(one.BaseAddress);
        var (alice, bob) = (SiloHostFixture.NewId("alice"), SiloHostFixture.NewId("bob"));
        await using var a1 = await SocketClient.ConnectAsync(one.BaseAddress, await api.TokenAsync(alice));
        await using var a2 = await SocketClient.ConnectAsync(two.BaseAddress, await api.TokenAsync(alice));
        await using var b = await SocketClient.ConnectAsync(two.BaseAddress, await api.TokenAsync(bob));
        var dm = Protocol.Dm(alice, bob);
        await a1.SendMessageAsync($"user:{bob}", "one");
        await a1.SendMessageAsync($"user:{bob}", "two");

        var ack = await b.RequestAsync(new { type = "read", id = "r1", conversation = dm, seq = 2 });
        var stored = (await cluster.QueryAsync($"SELECT user_id, seq FROM sb_read_markers WHERE conversation = '{dm}' ORDER BY user_id")).Trim();

        Assert.Equal("ack", ack.Type());
        Assert.Equal(2, ack.GetProperty("read").GetInt64());
        // Bob's from his read, Alice's from her sends (the trigger), both already committed when the ack came.
        Assert.Equal(string.Join("\n", new[] { $"{alice}\t2", $"{bob}\t2" }.Order(StringComparer.Ordinal)), stored);
        await a1.WaitForAsync(f => f.Type() == "read" && f.Str("user") == bob && f.GetProperty("seq").GetInt64() == 2, "bob's receipt on silo-1");
        await a2.WaitForAsync(f => f.Type() == "read" && f.Str("user") == bob && f.GetProperty("seq").GetInt64() == 2, "bob's receipt on silo-2");

        var (status, list) = await api.GetAsync($"/api/users/{bob}/conversations", await api.TokenAsync(bob));
        Assert.Equal(200, status);
        var entry = list.EnumerateArray().Single(e => e.Str("conversation") == dm);
        Assert.Equal((2L, 2L, 0L), (entry.GetProperty("seq").GetInt64(), entry.GetProperty("read").GetInt64(), entry.GetProperty("unread").GetInt64()));

        var receipts = await api.GetAsync($"/api/conversations/{dm}/receipts?seq=2", await api.TokenAsync(alice));
        Assert.Equal(200, receipts.Status);
        Assert.Equal(2, receipts.Body.GetProperty("readBy").GetInt32());

        await b.SendAsync(new { type = "typing", conversation = dm });
        await a1.WaitForAsync(f => f.Type() == "typing" && f.Str("user") == bob, "bob typing on silo-1");
        await a2.WaitForAsync(f => f.Type() == "typing" && f.Str("user") == bob, "bob typing on silo-2");
    }
}
