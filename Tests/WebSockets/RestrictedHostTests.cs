using System.Net.WebSockets;
using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md limits that need a host configured small: connection cap, Origin allow list, resume cap, slow clients.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(RestrictedHostCollection.Name)]
public sealed class RestrictedHostTests(RestrictedHostFixture host)
{
    [Fact]
    public async Task A_user_over_the_connection_cap_is_refused_with_429_and_admitted_again_once_one_closes()
    {
        var alice = SiloHostFixture.NewId("alice");
        var token = TestTokens.Mint(alice);
        var first = await host.ConnectAsync(alice);
        await using var second = await host.ConnectAsync(alice);

        var refused = await SocketClient.TryConnectStatusAsync(host.BaseAddress, token);
        await first.DisposeAsync();
        await Wait.UntilAsync(
            async () => (await host.Api.GetAsync($"/api/users/{alice}/presence", token)).Body.GetProperty("connections").GetInt32() == 1,
            "the first connection is gone");
        await using var third = await host.ConnectAsync(alice);

        Assert.Equal(429, refused);
        Assert.Equal(alice, third.Welcome.Str("user"));
        Assert.Equal(2, (await host.Api.GetAsync($"/api/users/{alice}/presence", token)).Body.GetProperty("connections").GetInt32());
    }

    [Fact]
    public async Task The_connection_cap_is_per_user()
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var a1 = await host.ConnectAsync(alice);
        await using var a2 = await host.ConnectAsync(alice);

        await using var bob = await host.ConnectAsync(SiloHostFixture.NewId("bob"));

        await bob.PingAsync();
    }

    [Fact]
    public async Task A_retry_of_an_id_the_grain_no_longer_remembers_gets_the_original_receipt_from_the_log()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var carol = SiloHostFixture.NewId("carol");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);

        var original = await a.SendMessageAsync($"user:{bob}", "original", id: "old-1");
        await a.SendMessageAsync($"user:{bob}", "second", id: "old-2");
        await a.SendMessageAsync($"user:{bob}", "third", id: "old-3");

        // The host remembers 2 ids per user: old-1 is gone from memory, and the retry names another recipient.
        var retry = await a.SendMessageAsync($"user:{carol}", "changed", id: "old-1");
        var next = await a.SendMessageAsync($"user:{bob}", "fourth", id: "old-4");

        Assert.Equal("ack", retry.Type());
        Assert.Equal(original.Str("conversation"), retry.Str("conversation"));
        Assert.Equal(1, retry.GetProperty("seq").GetInt64());
        Assert.Equal(4, next.GetProperty("seq").GetInt64());
        var token = TestTokens.Mint(alice);
        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", token);
        Assert.Equal([1L, 2L, 3L, 4L], Protocol.Seqs(history.Body.EnumerateArray()));
        var other = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, carol)}/messages", token);
        Assert.Equal(0, other.Body.GetArrayLength());
    }

    [Fact]
    public async Task An_Origin_not_on_the_allow_list_is_refused_with_403()
    {
        var token = TestTokens.Mint(SiloHostFixture.NewId("alice"));

        Assert.Equal(403, await SocketClient.TryConnectStatusAsync(host.BaseAddress, token, origin: "https://evil.example"));
        Assert.Equal(403, await SocketClient.TryConnectStatusAsync(host.BaseAddress, token, origin: "https://ok.example.evil.example"));
    }

    [Fact]
    public async Task An_Origin_on_the_allow_list_connects()
    {
        var alice = SiloHostFixture.NewId("alice");

        await using var socket = await host.ConnectAsync(alice, origin: RestrictedHostFixture.AllowedOrigin);

        Assert.Equal(alice, socket.Welcome.Str("user"));
        await socket.PingAsync();
    }

    [Fact]
    public async Task A_bad_token_is_refused_with_401_before_the_Origin_is_looked_at()
    {
        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(host.BaseAddress, token: null, origin: RestrictedHostFixture.AllowedOrigin));
    }

    [Fact]
    public async Task The_dev_token_endpoint_is_off_when_configured_off()
    {
        var reply = await host.Api.PostAsync("/api/dev/token", token: null, new { user = "alice", role = "admin" });

        Assert.NotEqual(200, reply.Status);
        Assert.False(reply.Body.ValueKind == JsonValueKind.Object && reply.Body.TryGetProperty("token", out _));
    }

    [Fact]
    public async Task Resume_past_the_cap_says_more_and_resuming_from_what_arrived_gets_the_rest()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var dm = Protocol.Dm(alice, bob);
        var aliceToken = TestTokens.Mint(alice);
        for (var i = 1; i <= 7; i++)
        {
            Assert.Equal(200, (await host.Api.PostAsync("/api/messages", aliceToken, new { to = $"user:{bob}", body = i })).Status);
        }

        await using var b = await host.ConnectAsync(bob);

        var first = await b.RequestAsync(Resume("r-1", dm, 0));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Protocol.Seqs(b.Messages(dm)));
        var second = await b.RequestAsync(Resume("r-2", dm, 5));

        Assert.True(first.GetProperty("more").GetBoolean());
        Assert.True(first.GetProperty("recovered").GetBoolean());
        Assert.False(second.GetProperty("more").GetBoolean());
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L, 7L], Protocol.Seqs(b.Messages(dm)));
    }

    [Fact]
    public async Task Resume_of_exactly_the_cap_does_not_say_more()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var aliceToken = TestTokens.Mint(alice);
        for (var i = 1; i <= 7; i++)
        {
            await host.Api.PostAsync("/api/messages", aliceToken, new { to = $"user:{bob}", body = i });
        }

        await using var b = await host.ConnectAsync(bob);

        var ack = await b.RequestAsync(Resume("r-1", Protocol.Dm(alice, bob), 2));

        Assert.False(ack.GetProperty("more").GetBoolean());
        Assert.Equal([3L, 4L, 5L, 6L, 7L], Protocol.Seqs(b.Messages(Protocol.Dm(alice, bob))));
    }

    [Fact]
    public async Task A_history_page_stops_at_the_byte_budget_and_paging_on_from_its_last_seq_gets_every_message()
    {
        var (alice, bob, aliceToken) = await LargeMessagesAsync(7);
        var path = $"/api/conversations/{Protocol.Dm(alice, bob)}/messages";

        // 30,002-byte bodies and a 64 KiB budget: two a page, although the limit allows all seven.
        var first = await host.Api.GetAsync($"{path}?limit=1000", aliceToken);
        var seqs = new List<long>();
        var pages = 0;
        for (var after = 0L; ; pages++)
        {
            var page = Protocol.Seqs((await host.Api.GetAsync($"{path}?after={after}&limit=1000", aliceToken)).Body.EnumerateArray()).ToList();
            if (page.Count == 0)
            {
                break;
            }

            seqs.AddRange(page);
            after = page[^1];
        }

        Assert.Equal(200, first.Status);
        Assert.Equal([1L, 2L], Protocol.Seqs(first.Body.EnumerateArray()));
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L, 7L], seqs);
        Assert.Equal(4, pages);
    }

    [Fact]
    public async Task A_resume_of_large_messages_reads_several_pages_yet_keeps_its_cap_and_more()
    {
        var (alice, bob, _) = await LargeMessagesAsync(7);
        var dm = Protocol.Dm(alice, bob);
        await using var b = await host.ConnectAsync(bob);

        // Two bodies fit one read: the cap of 5 takes three reads, and more is still about the cap.
        var first = await b.RequestAsync(Resume("r-1", dm, 0));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Protocol.Seqs(b.Messages(dm)));
        var second = await b.RequestAsync(Resume("r-2", dm, 5));
        await using var c = await host.ConnectAsync(bob);
        var exactlyTheCap = await c.RequestAsync(Resume("r-3", dm, 2));

        Assert.True(first.GetProperty("more").GetBoolean());
        Assert.True(first.GetProperty("recovered").GetBoolean());
        Assert.False(second.GetProperty("more").GetBoolean());
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L, 7L], Protocol.Seqs(b.Messages(dm)));
        Assert.False(exactlyTheCap.GetProperty("more").GetBoolean());
        Assert.Equal([3L, 4L, 5L, 6L, 7L], Protocol.Seqs(c.Messages(dm)));
    }

    private async Task<(string Alice, string Bob, string AliceToken)> LargeMessagesAsync(int count)
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var aliceToken = TestTokens.Mint(alice);
        var body = new string('x', 30_000);
        for (var i = 1; i <= count; i++)
        {
            Assert.Equal(200, (await host.Api.PostAsync("/api/messages", aliceToken, new { to = $"user:{bob}", body })).Status);
        }

        return (alice, bob, aliceToken);
    }

    [Fact]
    public async Task A_resume_that_replays_more_frames_than_the_outbound_queue_holds_reaches_a_reading_client()
    {
        // 4 conversations x 5 messages (the cap) = 20 frames plus the ack, more than the queue of 16: a client
        // that reads as fast as it can must get them all, not a 4008.
        var bob = SiloHostFixture.NewId("bob");
        var senders = Enumerable.Range(0, 4).Select(i => SiloHostFixture.NewId($"s{i}")).ToList();
        foreach (var sender in senders)
        {
            var token = TestTokens.Mint(sender);
            for (var i = 1; i <= 5; i++)
            {
                Assert.Equal(200, (await host.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = i })).Status);
            }
        }

        await using var b = await host.ConnectAsync(bob);

        var ack = await b.RequestAsync(new { type = "resume", id = "r-1", since = senders.ToDictionary(s => Protocol.Dm(s, bob), _ => 0L) });

        Assert.Equal("ack", ack.Type());
        Assert.False(ack.GetProperty("more").GetBoolean());
        Assert.All(senders, s => Assert.Equal([1L, 2L, 3L, 4L, 5L], Protocol.Seqs(b.Messages(Protocol.Dm(s, bob)))));
        await b.PingAsync();
    }

    [Fact]
    public async Task A_client_that_does_not_read_is_closed_with_4008()
    {
        var alice = SiloHostFixture.NewId("alice");
        var slow = SiloHostFixture.NewId("slow");
        var aliceToken = TestTokens.Mint(alice);
        using var overflows = new MeterCounter(host.Factory.Services, "Switchboard.Silo", "switchboard.queue.overflows");
        await using var stalled = await StalledSocket.ConnectAsync(host.BaseAddress, TestTokens.Mint(slow));
        var body = new string('x', 60_000);

        var sent = 0;
        while (overflows.Total == 0 && sent < 1000)
        {
            Assert.Equal(200, (await host.Api.PostAsync("/api/messages", aliceToken, new { to = $"user:{slow}", body })).Status);
            sent++;
        }

        var frames = await stalled.ReadUntilClosedAsync(TimeSpan.FromSeconds(10));

        Console.WriteLine($"slow consumer: overflow after {sent} sends, {frames.Count} frames read before the close");
        Assert.Equal(1, overflows.Total);
        Assert.Equal((WebSocketCloseStatus)4008, stalled.CloseStatus);
        Assert.True(frames.Count(f => f.Type() == "message") < sent, "the queued backlog is dropped, not delivered");
    }

    private static object Resume(string id, string conversation, long since) =>
        new { type = "resume", id, since = new Dictionary<string, long> { [conversation] = since } };
}
