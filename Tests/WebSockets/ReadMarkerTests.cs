using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md 1.1 "Read markers, unread counts, receipts" over the socket and the conversation list.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class ReadMarkerTests(SiloHostFixture host)
{
    [Fact]
    public async Task A_read_is_acked_with_the_stored_marker_which_only_moves_forward()
    {
        var (alice, bob) = (SiloHostFixture.NewId("alice"), SiloHostFixture.NewId("bob"));
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);
        var dm = Protocol.Dm(alice, bob);
        for (var i = 0; i < 3; i++)
        {
            await a.SendMessageAsync($"user:{bob}", new { n = i });
        }

        var second = await b.RequestAsync(new { type = "read", id = "r1", conversation = dm, seq = 2 });
        var back = await b.RequestAsync(new { type = "read", id = "r2", conversation = dm, seq = 1 });
        var same = await b.RequestAsync(new { type = "read", id = "r3", conversation = dm, seq = 2 });
        var last = await b.RequestAsync(new { type = "read", id = "r4", conversation = dm, seq = 3 });

        AssertReadAck(second, "r1", dm, 2);
        AssertReadAck(back, "r2", dm, 2);
        AssertReadAck(same, "r3", dm, 2);
        AssertReadAck(last, "r4", dm, 3);
    }

    [Fact]
    public async Task A_seq_past_the_latest_is_bad_request_and_a_conversation_the_user_may_not_read_is_forbidden()
    {
        var (alice, bob, carol) = (SiloHostFixture.NewId("alice"), SiloHostFixture.NewId("bob"), SiloHostFixture.NewId("carol"));
        await using var a = await host.ConnectAsync(alice);
        await using var c = await host.ConnectAsync(carol);
        var dm = Protocol.Dm(alice, bob);
        await a.SendMessageAsync($"user:{bob}", "one");
        var group = await CreateGroupAsync("members");

        var past = await a.RequestAsync(new { type = "read", id = "r1", conversation = dm, seq = 2 });
        var notMine = await c.RequestAsync(new { type = "read", id = "r2", conversation = dm, seq = 1 });
        var notMember = await c.RequestAsync(new { type = "read", id = "r3", conversation = Protocol.Group(group.Group), seq = 0 });
        var noSeq = await a.RequestAsync(new { type = "read", id = "r4", conversation = dm });
        var negative = await a.RequestAsync(new { type = "read", id = "r5", conversation = dm, seq = -1 });
        var badId = await a.RequestAsync(new { type = "read", id = "r6", conversation = "dm:nobody", seq = 1 });

        Protocol.AssertError(past, "r1", "bad_request");
        Protocol.AssertError(notMine, "r2", "forbidden");
        Protocol.AssertError(notMember, "r3", "forbidden");
        Protocol.AssertError(noSeq, "r4", "bad_request");
        Protocol.AssertError(negative, "r5", "bad_request");
        Protocol.AssertError(badId, "r6", "bad_request");
    }

    [Fact]
    public async Task Sending_moves_the_senders_own_marker_and_the_list_shows_read_and_unread()
    {
        var (alice, bob) = (SiloHostFixture.NewId("alice"), SiloHostFixture.NewId("bob"));
        await using var a = await host.ConnectAsync(alice);
        var dm = Protocol.Dm(alice, bob);
        await a.SendMessageAsync($"user:{bob}", "one");
        await a.SendMessageAsync($"user:{bob}", "two");

        var ownRead = await a.RequestAsync(new { type = "read", id = "r1", conversation = dm, seq = 1 });
        var alicesList = await ListAsync(alice);
        var bobsList = await ListAsync(bob);

        AssertReadAck(ownRead, "r1", dm, 2);
        AssertEntry(alicesList, dm, seq: 2, read: 2, unread: 0);
        AssertEntry(bobsList, dm, seq: 2, read: 0, unread: 2);

        await using var b = await host.ConnectAsync(bob);
        await b.RequestAsync(new { type = "read", id = "r2", conversation = dm, seq = 1 });
        AssertEntry(await ListAsync(bob), dm, seq: 2, read: 1, unread: 1);
    }

    [Fact]
    public async Task A_moved_marker_reaches_the_users_other_connections_and_the_direct_peer_but_not_the_reading_socket()
    {
        var (alice, bob) = (SiloHostFixture.NewId("alice"), SiloHostFixture.NewId("bob"));
        await using var a = await host.ConnectAsync(alice);
        await using var b1 = await host.ConnectAsync(bob);
        await using var b2 = await host.ConnectAsync(bob);
        var dm = Protocol.Dm(alice, bob);
        await a.SendMessageAsync($"user:{bob}", "hi");

        await b1.RequestAsync(new { type = "read", id = "r1", conversation = dm, seq = 1 });

        var onOther = await b2.WaitForAsync(f => IsRead(f, dm, bob, 1), "bob's read on his other socket");
        var receipt = await a.WaitForAsync(f => IsRead(f, dm, bob, 1), "bob's read receipt at alice");
        Assert.Equal(["type", "conversation", "user", "seq"], onOther.EnumerateObject().Select(p => p.Name));
        Assert.Equal(onOther.GetRawText(), receipt.GetRawText());
        // b2 got it from the same write to this silo's sockets that skipped b1.
        Assert.DoesNotContain(b1.Frames, f => f.Type() == "read");
    }

    [Fact]
    public async Task An_unchanged_marker_is_not_pushed_again()
    {
        var (alice, bob) = (SiloHostFixture.NewId("alice"), SiloHostFixture.NewId("bob"));
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);
        var dm = Protocol.Dm(alice, bob);
        await a.SendMessageAsync($"user:{bob}", "one");
        await a.SendMessageAsync($"user:{bob}", "two");

        await b.RequestAsync(new { type = "read", id = "r1", conversation = dm, seq = 1 });
        await b.RequestAsync(new { type = "read", id = "r2", conversation = dm, seq = 1 });
        await b.RequestAsync(new { type = "read", id = "r3", conversation = dm, seq = 2 });
        await a.WaitForAsync(f => IsRead(f, dm, bob, 2), "bob's second receipt");

        Assert.Equal([1L, 2L], a.Frames.Where(f => f.Type() == "read").Select(f => f.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task In_a_group_markers_reach_the_readers_own_sockets_only_and_the_list_counts_unread()
    {
        var (group, owner) = await CreateGroupAsync("open");
        var member = SiloHostFixture.NewId("member");
        await using var o = await host.ConnectAsync(owner, "teacher");
        await using var m1 = await host.ConnectAsync(member);
        await using var m2 = await host.ConnectAsync(member);
        await m1.RequestAsync(new { type = "join", id = "j", group });
        var conversation = Protocol.Group(group);
        for (var i = 0; i < 3; i++)
        {
            await o.SendMessageAsync(conversation, i);
        }

        var ack = await m1.RequestAsync(new { type = "read", id = "r1", conversation, seq = 1 });
        await m2.WaitForAsync(f => IsRead(f, conversation, member, 1), "the member's read on its other socket");
        await o.PingAsync();

        AssertReadAck(ack, "r1", conversation, 1);
        Assert.DoesNotContain(o.Frames, f => f.Type() == "read");
        AssertEntry(await ListAsync(member), conversation, seq: 3, read: 1, unread: 2);
        AssertEntry(await ListAsync(owner, "teacher"), conversation, seq: 3, read: 3, unread: 0);
    }

    private static bool IsRead(JsonElement frame, string conversation, string user, long seq) =>
        frame.Type() == "read" && frame.Str("conversation") == conversation && frame.Str("user") == user && frame.GetProperty("seq").GetInt64() == seq;

    private static void AssertReadAck(JsonElement ack, string id, string conversation, long read)
    {
        Assert.Equal("ack", ack.Type());
        Assert.Equal(id, ack.Str("id"));
        Assert.Equal(conversation, ack.Str("conversation"));
        Assert.Equal(read, ack.GetProperty("read").GetInt64());
    }

    private static void AssertEntry(JsonElement list, string conversation, long seq, long read, long unread)
    {
        var entry = list.EnumerateArray().Single(e => e.Str("conversation") == conversation);
        Assert.Equal(seq, entry.GetProperty("seq").GetInt64());
        Assert.Equal(read, entry.GetProperty("read").GetInt64());
        Assert.Equal(unread, entry.GetProperty("unread").GetInt64());
    }

    private async Task<JsonElement> ListAsync(string user, string role = "student")
    {
        var reply = await host.Api.GetAsync($"/api/users/{user}/conversations", await host.Api.TokenAsync(user, role));
        Assert.Equal(200, reply.Status);
        return reply.Body;
    }

    private async Task<(string Group, string Owner)> CreateGroupAsync(string policy)
    {
        var group = SiloHostFixture.NewId("g");
        var owner = SiloHostFixture.NewId("owner");
        var created = await host.Api.PutAsync($"/api/groups/{group}", await host.Api.TokenAsync(owner, "teacher"), new { policy });
        Assert.Equal(201, created.Status);
        return (group, owner);
    }
}
