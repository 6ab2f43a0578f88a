using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md <c>resume</c>: replay of missed messages in order, then the ack; refusal as a whole.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class ResumeTests(SiloHostFixture host)
{
    [Fact]
    public async Task A_user_who_connects_receives_nothing_old_unprompted()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await SendViaRestAsync(alice, bob, 2);

        await using var b = await host.ConnectAsync(bob);
        await b.PingAsync();

        Assert.DoesNotContain(b.Frames, f => f.Type() == "message");
    }

    [Fact]
    public async Task Resume_replays_the_missed_messages_in_order_then_acks_recovered_and_not_more()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var dm = Protocol.Dm(alice, bob);
        await SendViaRestAsync(alice, bob, 5);
        await using var b = await host.ConnectAsync(bob);

        var ack = await b.RequestAsync(Resume("r-1", (dm, 2)));

        Assert.Equal("ack", ack.Type());
        Assert.True(ack.GetProperty("recovered").GetBoolean());
        Assert.False(ack.GetProperty("more").GetBoolean());
        var frames = b.Frames.ToList();
        var replayed = frames.Where(f => f.Type() == "message").ToList();
        Assert.Equal([3L, 4L, 5L], Protocol.Seqs(replayed));
        Assert.All(replayed, m => Assert.True(frames.IndexOf(m) < frames.FindIndex(f => f.Type() == "ack"), "messages come before the ack"));
        Assert.Equal(["m-3", "m-4", "m-5"], replayed.Select(m => m.Str("id")));
        Assert.All(replayed, m => Assert.Equal(alice, m.Str("from")));
    }

    [Fact]
    public async Task Resume_of_several_conversations_keeps_each_in_order()
    {
        var alice = SiloHostFixture.NewId("alice");
        var carol = SiloHostFixture.NewId("carol");
        var bob = SiloHostFixture.NewId("bob");
        await SendViaRestAsync(alice, bob, 3);
        await SendViaRestAsync(carol, bob, 4);
        await using var b = await host.ConnectAsync(bob);

        var ack = await b.RequestAsync(Resume("r-1", (Protocol.Dm(alice, bob), 0), (Protocol.Dm(carol, bob), 1)));

        Assert.Equal("ack", ack.Type());
        Assert.True(ack.GetProperty("recovered").GetBoolean());
        AssertReplayed([1L, 2L, 3L], Arrived(b, Protocol.Dm(alice, bob)));
        AssertReplayed([2L, 3L, 4L], Arrived(b, Protocol.Dm(carol, bob)));
    }

    /// <summary>
    /// The replay, in order, ends what arrived; a live frame of a message acked just before the socket registered may
    /// come first (docs/protocol.md: live delivery may interleave with a replay, clients drop what they hold).
    /// </summary>
    private static void AssertReplayed(long[] expected, long[] arrived)
    {
        Assert.Equal(expected, arrived.TakeLast(expected.Length));
        Assert.All(arrived, seq => Assert.Contains(seq, expected));
    }

    [Fact]
    public async Task Resume_with_since_at_or_beyond_the_latest_seq_replays_nothing()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var dm = Protocol.Dm(alice, bob);
        await SendViaRestAsync(alice, bob, 3);
        await using var b = await host.ConnectAsync(bob);

        var atLatest = await b.RequestAsync(Resume("r-1", (dm, 3)));
        var beyond = await b.RequestAsync(Resume("r-2", (dm, 1000)));

        Assert.Equal("ack", atLatest.Type());
        Assert.Equal("ack", beyond.Type());
        Assert.False(beyond.GetProperty("more").GetBoolean());
        Assert.True(beyond.GetProperty("recovered").GetBoolean());
        Assert.Empty(b.Messages(dm));
    }

    [Fact]
    public async Task A_client_that_never_saw_a_conversation_resumes_it_from_0()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var carol = SiloHostFixture.NewId("carol");
        await SendViaRestAsync(alice, bob, 2);
        await using var b = await host.ConnectAsync(bob);

        var ack = await b.RequestAsync(Resume("r-1", (Protocol.Dm(alice, bob), 0), (Protocol.Dm(bob, carol), 0)));

        Assert.Equal("ack", ack.Type());
        Assert.True(ack.GetProperty("recovered").GetBoolean());
        Assert.False(ack.GetProperty("more").GetBoolean());
        Assert.Equal([1L, 2L], Arrived(b, Protocol.Dm(alice, bob)));
        Assert.Empty(b.Messages(Protocol.Dm(bob, carol)));
    }

    [Fact]
    public async Task Resume_with_an_empty_since_is_acked()
    {
        await using var b = await host.ConnectAsync(SiloHostFixture.NewId("bob"));

        var ack = await b.RequestAsync(new { type = "resume", id = "r-1", since = new Dictionary<string, long>() });

        Assert.Equal("ack", ack.Type());
        Assert.True(ack.GetProperty("recovered").GetBoolean());
        Assert.False(ack.GetProperty("more").GetBoolean());
    }

    [Fact]
    public async Task A_resume_naming_a_conversation_the_user_may_not_read_is_refused_whole()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var carol = SiloHostFixture.NewId("carol");
        var dave = SiloHostFixture.NewId("dave");
        await SendViaRestAsync(alice, bob, 2);
        await SendViaRestAsync(carol, dave, 2);
        await using var b = await host.ConnectAsync(bob);

        var reply = await b.RequestAsync(Resume("r-1", (Protocol.Dm(alice, bob), 0), (Protocol.Dm(carol, dave), 0)));

        Protocol.AssertError(reply, "r-1", "forbidden");
        await b.PingAsync();
        Assert.DoesNotContain(b.Frames, f => f.Type() == "message");
    }

    [Fact]
    public async Task Resume_of_a_members_group_is_for_its_members_and_of_an_open_group_for_anyone()
    {
        var owner = SiloHostFixture.NewId("owner");
        var closed = SiloHostFixture.NewId("closed");
        var open = SiloHostFixture.NewId("open");
        var token = await host.Api.TokenAsync(owner, "teacher");
        await host.Api.PutAsync($"/api/groups/{closed}", token, new { policy = "members" });
        await host.Api.PutAsync($"/api/groups/{open}", token, new { policy = "open" });
        await host.Api.PostAsync("/api/messages", token, new { to = $"group:{closed}", body = "secret" });
        await host.Api.PostAsync("/api/messages", token, new { to = $"group:{open}", body = "public" });
        await using var outsider = await host.ConnectAsync(SiloHostFixture.NewId("outsider"));
        await using var o = await host.ConnectAsync(owner, "teacher");

        var refused = await outsider.RequestAsync(Resume("r-1", (Protocol.Group(closed), 0)));
        var readable = await outsider.RequestAsync(Resume("r-2", (Protocol.Group(open), 0)));
        var asOwner = await o.RequestAsync(Resume("r-3", (Protocol.Group(closed), 0)));

        Protocol.AssertError(refused, "r-1", "forbidden");
        Assert.Equal("ack", readable.Type());
        Assert.Equal([1L], Arrived(outsider, Protocol.Group(open)));
        Assert.Empty(outsider.Messages(Protocol.Group(closed)));
        Assert.Equal("ack", asOwner.Type());
        Assert.Equal([1L], Arrived(o, Protocol.Group(closed)));
    }

    [Theory]
    [InlineData("{\"type\":\"resume\",\"id\":\"r-1\"}")]
    [InlineData("{\"type\":\"resume\",\"id\":\"r-1\",\"since\":[1]}")]
    [InlineData("{\"type\":\"resume\",\"id\":\"r-1\",\"since\":{\"dm:a:b\":-1}}")]
    [InlineData("{\"type\":\"resume\",\"id\":\"r-1\",\"since\":{\"dm:a:b\":\"3\"}}")]
    [InlineData("{\"type\":\"resume\",\"id\":\"r-1\",\"since\":{\"nonsense\":0}}")]
    [InlineData("{\"type\":\"resume\",\"id\":\"r-1\",\"since\":{\"dm:b:a\":0}}")]
    [InlineData("{\"type\":\"resume\",\"id\":\"r-1\",\"since\":{\"dm:a:a\":0}}")]
    public async Task A_malformed_resume_is_a_bad_request(string text)
    {
        await using var b = await host.ConnectAsync(SiloHostFixture.NewId("bob"));

        await b.SendTextAsync(text);
        var reply = await b.WaitForAsync(f => f.Str("id") == "r-1", "the reply");

        Protocol.AssertError(reply, "r-1", "bad_request");
        await b.PingAsync();
    }

    private static object Resume(string id, params (string Conversation, long Since)[] since) =>
        new { type = "resume", id, since = since.ToDictionary(s => s.Conversation, s => s.Since) };

    /// <summary>The seqs of a conversation's message frames in the order they arrived (not sorted).</summary>
    private static long[] Arrived(SocketClient socket, string conversation) =>
        Protocol.Seqs(socket.Frames.Where(f => f.Type() == "message" && f.Str("conversation") == conversation));

    private async Task SendViaRestAsync(string from, string to, int count)
    {
        var token = await host.Api.TokenAsync(from);
        for (var i = 1; i <= count; i++)
        {
            var reply = await host.Api.PostAsync("/api/messages", token, new { to = $"user:{to}", body = i, id = $"m-{i}" });
            Assert.Equal(200, reply.Status);
        }
    }
}
