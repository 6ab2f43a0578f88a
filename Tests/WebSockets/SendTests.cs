using System.Globalization;
using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md <c>send</c>: acks, gapless seq, conversation ids, dedupe by id, invalid sends.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class SendTests(SiloHostFixture host)
{
    [Fact]
    public async Task A_send_is_acked_with_conversation_and_seq_and_delivered_with_every_field()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);

        var ack = await a.SendMessageAsync($"user:{bob}", new { text = "hi", n = 1 }, id: "s-1");

        Assert.Equal("ack", ack.Type());
        Assert.Equal("s-1", ack.Str("id"));
        Assert.Equal(Protocol.Dm(alice, bob), ack.Str("conversation"));
        Assert.Equal(1, ack.GetProperty("seq").GetInt64());
        var message = await b.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
        Assert.Equal("message", message.Type());
        Assert.Equal(alice, message.Str("from"));
        Assert.Equal($"user:{bob}", message.Str("to"));
        Assert.Equal("s-1", message.Str("id"));
        Assert.Equal("hi", message.GetProperty("body").GetProperty("text").GetString());
        Assert.Equal(1, message.GetProperty("body").GetProperty("n").GetInt32());
        var ts = DateTimeOffset.Parse(message.Str("ts")!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        Assert.EndsWith("Z", message.Str("ts"));
        Assert.InRange(ts, before, DateTimeOffset.UtcNow.AddSeconds(5));
    }

    [Fact]
    public async Task A_direct_conversation_id_orders_its_users_by_ordinal_comparison()
    {
        // Ordinal puts 'B' (66) before 'a' (97); a culture-aware comparison would not.
        var lower = "a" + SiloHostFixture.NewId("x");
        var upper = "B" + SiloHostFixture.NewId("x");
        await using var socket = await host.ConnectAsync(lower);

        var ack = await socket.SendMessageAsync($"user:{upper}", "hello");

        Assert.Equal($"dm:{upper}:{lower}", ack.Str("conversation"));
    }

    [Fact]
    public async Task Seq_numbers_a_conversation_1_2_3_whoever_sends()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);

        var first = await a.SendMessageAsync($"user:{bob}", 1);
        var second = await b.SendMessageAsync($"user:{alice}", 2);
        var third = await a.SendMessageAsync($"user:{bob}", 3);

        Assert.Equal([1L, 2L, 3L], Protocol.Seqs([first, second, third]));
        Assert.All([first, second, third], ack => Assert.Equal(Protocol.Dm(alice, bob), ack.Str("conversation")));
        await b.WaitForMessageAsync(Protocol.Dm(alice, bob), 3);
        Assert.Equal([1L, 3L], Protocol.Seqs(b.Messages(Protocol.Dm(alice, bob))));
    }

    [Fact]
    public async Task Concurrent_sends_get_gapless_distinct_seqs()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);

        var acks = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => a.SendMessageAsync($"user:{bob}", i)));

        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), Protocol.Seqs(acks).Order());
        await Wait.UntilAsync(() => b.Messages(Protocol.Dm(alice, bob)).Count == 20, "bob has all 20 messages");
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), Protocol.Seqs(b.Messages(Protocol.Dm(alice, bob))));
    }

    [Fact]
    public async Task Messages_that_come_one_at_a_time_to_an_idle_socket_all_arrive()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);

        // Each message waits for the one before it to reach bob: his send pump stops and starts again each time.
        for (var i = 1; i <= 20; i++)
        {
            await a.SendMessageAsync($"user:{bob}", i);
            await b.WaitForMessageAsync(Protocol.Dm(alice, bob), i);
        }

        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), Protocol.Seqs(b.Messages(Protocol.Dm(alice, bob))));
        await b.PingAsync();
    }

    [Fact]
    public async Task A_from_sent_by_the_client_is_ignored_and_unknown_fields_too()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var carol = SiloHostFixture.NewId("carol");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);

        var ack = await a.RequestAsync(new { type = "send", id = "spoof-1", to = $"user:{bob}", body = "x", from = carol, extra = new { nested = true } });

        Assert.Equal("ack", ack.Type());
        var message = await b.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
        Assert.Equal(alice, message.Str("from"));
        Assert.False(message.TryGetProperty("extra", out _));
    }

    [Fact]
    public async Task A_retried_send_id_is_stored_once()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var carol = SiloHostFixture.NewId("carol");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);
        await using var c = await host.ConnectAsync(carol);

        var original = await a.SendMessageAsync($"user:{bob}", "original", id: "retry-1");
        var sameRetry = await a.SendMessageAsync($"user:{bob}", "original", id: "retry-1");
        var changedRetry = await a.SendMessageAsync($"user:{carol}", "changed", id: "retry-1");
        var next = await a.SendMessageAsync($"user:{bob}", "next", id: "retry-2");

        foreach (var retry in new[] { sameRetry, changedRetry })
        {
            Assert.Equal("ack", retry.Type());
            Assert.Equal(original.Str("conversation"), retry.Str("conversation"));
            Assert.Equal(1, retry.GetProperty("seq").GetInt64());
        }

        Assert.Equal(2, next.GetProperty("seq").GetInt64());
        await b.WaitForMessageAsync(Protocol.Dm(alice, bob), 2);
        Assert.Equal([1L, 2L], Protocol.Seqs(b.Messages(Protocol.Dm(alice, bob))));
        Assert.Equal("original", b.Messages(Protocol.Dm(alice, bob))[0].GetProperty("body").GetString());
        await c.PingAsync();
        Assert.DoesNotContain(c.Frames, f => f.Type() == "message");

        var token = await host.Api.TokenAsync(alice);
        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", token);
        Assert.Equal([1L, 2L], Protocol.Seqs(history.Body.EnumerateArray()));
        var other = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, carol)}/messages", token);
        Assert.Equal(0, other.Body.GetArrayLength());
    }

    [Fact]
    public async Task Concurrent_retries_of_one_id_are_stored_once()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a1 = await host.ConnectAsync(alice);
        await using var a2 = await host.ConnectAsync(alice);
        var token = await host.Api.TokenAsync(alice);

        var socketAcks = Enumerable.Range(0, 6).Select(i => (i % 2 == 0 ? a1 : a2).SendMessageAsync($"user:{bob}", i, id: "race-1")).ToList();
        var restAcks = Enumerable.Range(0, 3).Select(i => host.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = i, id = "race-1" })).ToList();
        await Task.WhenAll(socketAcks.Cast<Task>().Concat(restAcks));

        Assert.All(socketAcks, ack => Assert.Equal(1, ack.Result.GetProperty("seq").GetInt64()));
        Assert.All(restAcks, reply => Assert.Equal(1, reply.Result.Body.GetProperty("seq").GetInt64()));
        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", token);
        Assert.Single(history.Body.EnumerateArray());
    }

    [Fact]
    public async Task A_send_id_is_remembered_across_reconnects()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        JsonElement first;
        await using (var a = await host.ConnectAsync(alice))
        {
            first = await a.SendMessageAsync($"user:{bob}", "once", id: "reconnect-1");
        }

        await using var again = await host.ConnectAsync(alice);
        var retry = await again.SendMessageAsync($"user:{bob}", "once", id: "reconnect-1");

        Assert.Equal(first.Str("conversation"), retry.Str("conversation"));
        Assert.Equal(first.GetProperty("seq").GetInt64(), retry.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task Socket_and_REST_sends_share_one_id_space_per_user()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        var token = await host.Api.TokenAsync(alice);

        var ack = await a.SendMessageAsync($"user:{bob}", "socket", id: "shared-1");
        var rest = await host.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = "rest", id = "shared-1" });

        Assert.Equal(200, rest.Status);
        Assert.Equal(ack.Str("conversation"), rest.Body.Str("conversation"));
        Assert.Equal(1, rest.Body.GetProperty("seq").GetInt64());

        var restFirst = await host.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = "rest", id = "shared-2" });
        var socketRetry = await a.SendMessageAsync($"user:{bob}", "socket", id: "shared-2");
        Assert.Equal(2, restFirst.Body.GetProperty("seq").GetInt64());
        Assert.Equal(2, socketRetry.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task The_same_id_from_two_users_is_two_messages()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);

        var fromAlice = await a.SendMessageAsync($"user:{bob}", "a", id: "same");
        var fromBob = await b.SendMessageAsync($"user:{alice}", "b", id: "same");

        Assert.Equal(1, fromAlice.GetProperty("seq").GetInt64());
        Assert.Equal(2, fromBob.GetProperty("seq").GetInt64());
    }

    [Theory]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("[1,\"two\",{\"three\":3}]")]
    [InlineData("null")]
    [InlineData("true")]
    public async Task A_body_may_be_any_JSON_value_and_arrives_unchanged(string body)
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);

        await a.SendTextAsync($"{{\"type\":\"send\",\"id\":\"any-1\",\"to\":\"user:{bob}\",\"body\":{body}}}");
        var ack = await a.WaitForAsync(f => f.Str("id") == "any-1", "the reply");

        Assert.Equal("ack", ack.Type());
        var message = await b.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(body).RootElement, message.GetProperty("body")), $"body {message.GetProperty("body")} differs from {body}");
    }

    [Fact]
    public async Task A_message_to_a_user_who_never_connected_is_accepted_and_waits_for_it()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);

        var ack = await a.SendMessageAsync($"user:{bob}", "waiting");

        Assert.Equal("ack", ack.Type());
        await using var b = await host.ConnectAsync(bob);
        var resume = await b.RequestAsync(new { type = "resume", id = "r-1", since = new Dictionary<string, long> { [Protocol.Dm(alice, bob)] = 0 } });
        Assert.Equal("ack", resume.Type());
        Assert.Equal("waiting", Assert.Single(b.Messages(Protocol.Dm(alice, bob))).GetProperty("body").GetString());
    }

    [Fact]
    public async Task A_direct_message_to_oneself_is_a_bad_request()
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var a = await host.ConnectAsync(alice);

        var reply = await a.SendMessageAsync($"user:{alice}", "me", id: "self-1");

        Protocol.AssertError(reply, "self-1", "bad_request");
        await a.PingAsync();
    }

    [Theory]
    [InlineData("bob")]
    [InlineData("user:")]
    [InlineData("user:has space")]
    [InlineData("user:a/b")]
    [InlineData("group:")]
    [InlineData("channel:x")]
    [InlineData("USER:bob")]
    public async Task A_bad_to_is_a_bad_request(string to)
    {
        await using var a = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        var reply = await a.SendMessageAsync(to, "x", id: "to-1");

        Protocol.AssertError(reply, "to-1", "bad_request");
        await a.PingAsync();
    }

    [Fact]
    public async Task A_to_of_65_characters_is_a_bad_request()
    {
        await using var a = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        var reply = await a.SendMessageAsync("user:" + new string('b', 65), "x", id: "to-2");

        Protocol.AssertError(reply, "to-2", "bad_request");
    }

    [Fact]
    public async Task A_send_without_to_or_body_is_a_bad_request()
    {
        await using var a = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        var noBody = await a.RequestAsync(new { type = "send", id = "nb-1", to = $"user:{SiloHostFixture.NewId("bob")}" });
        var noTo = await a.RequestAsync(new { type = "send", id = "nt-1", body = "x" });

        Protocol.AssertError(noBody, "nb-1", "bad_request");
        Protocol.AssertError(noTo, "nt-1", "bad_request");
        await a.PingAsync();
    }
}
