using System.Diagnostics;
using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md 1.1 "Typing": forwarded live to the other participants, never answered, rate limited, never stored.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class TypingTests(SiloHostFixture host)
{
    [Fact]
    public async Task Typing_in_a_direct_conversation_reaches_the_peer_only_and_is_not_answered()
    {
        var (alice, bob) = (SiloHostFixture.NewId("alice"), SiloHostFixture.NewId("bob"));
        await using var a1 = await host.ConnectAsync(alice);
        await using var a2 = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);
        var dm = Protocol.Dm(alice, bob);

        await a1.SendAsync(new { type = "typing", conversation = dm });
        var typing = await b.WaitForAsync(f => IsTyping(f, dm, alice), "alice typing at bob");
        await a1.PingAsync();
        await a2.PingAsync();

        Assert.Equal("""{"type":"typing","conversation":"%","user":"@"}""".Replace("%", dm).Replace("@", alice), typing.GetRawText());
        Assert.DoesNotContain(a1.Frames, f => f.Type() is "typing" or "error" or "ack");
        Assert.DoesNotContain(a2.Frames, f => f.Type() == "typing");
    }

    [Fact]
    public async Task At_most_one_typing_per_user_and_conversation_is_forwarded_in_two_seconds()
    {
        var (alice, bob) = (SiloHostFixture.NewId("alice"), SiloHostFixture.NewId("bob"));
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);
        var dm = Protocol.Dm(alice, bob);

        for (var i = 0; i < 5; i++)
        {
            await a.SendAsync(new { type = "typing", conversation = dm });
        }

        // The typing notices and this message pass the same two grains in order: once it is there, so would they be.
        await a.SendMessageAsync($"user:{bob}", "done");
        await b.WaitForMessageAsync(dm, 1);

        Assert.Single(b.Frames, f => IsTyping(f, dm, alice));
        Assert.Empty((await host.Api.GetAsync($"/api/conversations/{dm}/messages?after=1", await host.Api.TokenAsync(bob))).Body.EnumerateArray());
    }

    [Fact]
    public async Task Typing_kept_up_is_forwarded_again_once_the_two_seconds_have_passed()
    {
        var (alice, bob) = (SiloHostFixture.NewId("alice"), SiloHostFixture.NewId("bob"));
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);
        var dm = Protocol.Dm(alice, bob);
        await a.SendAsync(new { type = "typing", conversation = dm });
        await b.WaitForAsync(f => IsTyping(f, dm, alice), "the first typing");
        var sinceFirst = Stopwatch.StartNew();

        // A client that keeps typing sends a frame every 200 ms (well within the frame rate limit).
        var lastSent = Stopwatch.StartNew();
        await Wait.UntilAsync(async () =>
        {
            if (lastSent.ElapsedMilliseconds >= 200)
            {
                await a.SendAsync(new { type = "typing", conversation = dm });
                lastSent.Restart();
            }

            return b.Frames.Count(f => IsTyping(f, dm, alice)) >= 2;
        }, "a second typing after the interval");

        // The grain counts from when it forwarded the first, a little before bob saw it.
        Assert.True(sinceFirst.Elapsed >= TimeSpan.FromSeconds(1.5), $"the second came {sinceFirst.Elapsed} after the first");
        Assert.Equal(2, b.Frames.Count(f => IsTyping(f, dm, alice)));
    }

    [Fact]
    public async Task Typing_in_a_group_reaches_the_other_members_and_is_ignored_from_one_who_may_not_post()
    {
        var group = SiloHostFixture.NewId("g");
        var owner = SiloHostFixture.NewId("owner");
        var (member, outsider) = (SiloHostFixture.NewId("member"), SiloHostFixture.NewId("outsider"));
        var ownerToken = await host.Api.TokenAsync(owner, "teacher");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", ownerToken, new { policy = "announce" })).Status);
        await using var o = await host.ConnectAsync(owner, "teacher");
        await using var m = await host.ConnectAsync(member);
        await using var x = await host.ConnectAsync(outsider);
        await m.RequestAsync(new { type = "join", id = "j", group });
        var conversation = Protocol.Group(group);

        // In an announce group only owners post: a member's and an outsider's typing are dropped, the owner's forwarded.
        await m.SendAsync(new { type = "typing", conversation });
        await x.SendAsync(new { type = "typing", conversation });
        await o.SendAsync(new { type = "typing", conversation });
        await m.WaitForAsync(f => IsTyping(f, conversation, owner), "the owner typing at the member");
        await o.SendMessageAsync(conversation, "after");
        await m.WaitForMessageAsync(conversation, 1);
        await o.PingAsync();

        Assert.DoesNotContain(o.Frames, f => f.Type() == "typing");
        Assert.DoesNotContain(m.Frames, f => IsTyping(f, conversation, member) || IsTyping(f, conversation, outsider));
    }

    [Fact]
    public async Task A_muted_or_banned_users_typing_is_dropped_even_in_an_open_group()
    {
        var group = SiloHostFixture.NewId("g");
        var owner = SiloHostFixture.NewId("owner");
        var (muted, banned, reader) = (SiloHostFixture.NewId("muted"), SiloHostFixture.NewId("banned"), SiloHostFixture.NewId("reader"));
        var ownerToken = await host.Api.TokenAsync(owner, "teacher");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", ownerToken, new { policy = "open" })).Status);
        await using var o = await host.ConnectAsync(owner, "teacher");
        await using var mu = await host.ConnectAsync(muted);
        await using var b = await host.ConnectAsync(banned);
        await using var r = await host.ConnectAsync(reader);
        foreach (var socket in new[] { mu, b, r })
        {
            await socket.RequestAsync(new { type = "join", id = "j", group });
        }

        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/mutes/{muted}", ownerToken, new { })).Status);
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/bans/{banned}", ownerToken, new { })).Status);
        var conversation = Protocol.Group(group);

        // May post in an open group by policy, but not while muted or banned: their typing is dropped, the owner's is not.
        await mu.SendAsync(new { type = "typing", conversation });
        await b.SendAsync(new { type = "typing", conversation });
        await o.SendAsync(new { type = "typing", conversation });
        await r.WaitForAsync(f => IsTyping(f, conversation, owner), "the owner typing at the reader");
        await o.SendMessageAsync(conversation, "after");
        await r.WaitForMessageAsync(conversation, 1);

        Assert.DoesNotContain(r.Frames, f => IsTyping(f, conversation, muted) || IsTyping(f, conversation, banned));
    }

    [Fact]
    public async Task A_typing_frame_without_a_conversation_is_bad_request()
    {
        await using var a = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        await a.SendAsync(new { type = "typing", conversation = "nowhere" });

        var error = await a.WaitForAsync(f => f.Type() == "error", "the error");
        Protocol.AssertError(error, null, "bad_request");
    }

    private static bool IsTyping(JsonElement frame, string conversation, string user) =>
        frame.Type() == "typing" && frame.Str("conversation") == conversation && frame.Str("user") == user;
}
