using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Endpoints;

/// <summary>docs/protocol.md <c>GET /api/users/{id}/presence</c> and <c>/conversations</c>.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class UsersApiTests(SiloHostFixture host)
{
    [Fact]
    public async Task Presence_of_an_online_user_is_online_with_its_connection_count()
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var first = await host.ConnectAsync(alice);
        await using var second = await host.ConnectAsync(alice);

        var reply = await host.Api.GetAsync($"/api/users/{alice}/presence", await host.Api.TokenAsync(SiloHostFixture.NewId("bob")));

        Assert.Equal(200, reply.Status);
        Assert.Equal(alice, reply.Body.Str("user"));
        Assert.True(reply.Body.GetProperty("online").GetBoolean());
        Assert.Equal(2, reply.Body.GetProperty("connections").GetInt32());
    }

    [Fact]
    public async Task Presence_of_a_bad_user_id_is_a_bad_request()
    {
        var reply = await host.Api.GetAsync("/api/users/bad%20id/presence", await host.Api.TokenAsync(SiloHostFixture.NewId("bob")));

        Protocol.AssertProblem(reply, 400, "bad_request");
    }

    [Fact]
    public async Task The_conversation_list_has_direct_conversations_with_their_latest_seq_and_groups_without_messages_at_0()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var group = SiloHostFixture.NewId("g");
        var aliceToken = await host.Api.TokenAsync(alice, "teacher");
        await host.Api.PutAsync($"/api/groups/{group}", aliceToken, new { policy = "open" });
        await host.Api.PostAsync("/api/messages", aliceToken, new { to = $"user:{bob}", body = 1 });
        await host.Api.PostAsync("/api/messages", aliceToken, new { to = $"user:{bob}", body = 2 });

        var reply = await host.Api.GetAsync($"/api/users/{alice}/conversations", aliceToken);

        Assert.Equal(200, reply.Status);
        var list = reply.Body.EnumerateArray().ToDictionary(c => c.Str("conversation")!, c => c.GetProperty("seq").GetInt64());
        Assert.Equal(2, list.Count);
        Assert.Equal(2, list[Protocol.Dm(alice, bob)]);
        Assert.Equal(0, list[Protocol.Group(group)]);
    }

    [Fact]
    public async Task The_conversation_list_of_a_user_who_never_connected_has_what_waits_for_it()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await host.Api.PostAsync("/api/messages", await host.Api.TokenAsync(alice), new { to = $"user:{bob}", body = "hello" });

        var reply = await host.Api.GetAsync($"/api/users/{bob}/conversations", await host.Api.TokenAsync(bob));

        var entry = Assert.Single(reply.Body.EnumerateArray());
        Assert.Equal(Protocol.Dm(alice, bob), entry.Str("conversation"));
        Assert.Equal(1, entry.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task The_conversation_list_includes_groups_joined_and_added_to()
    {
        var owner = SiloHostFixture.NewId("owner");
        var student = SiloHostFixture.NewId("student");
        var open = SiloHostFixture.NewId("open");
        var closed = SiloHostFixture.NewId("closed");
        var ownerToken = await host.Api.TokenAsync(owner, "teacher");
        await host.Api.PutAsync($"/api/groups/{open}", ownerToken, new { policy = "open" });
        await host.Api.PutAsync($"/api/groups/{closed}", ownerToken, new { policy = "members" });
        await host.Api.PostAsync("/api/messages", ownerToken, new { to = $"group:{open}", body = "x" });
        await host.Api.PutAsync($"/api/groups/{closed}/members/{student}", ownerToken, new { role = "member" });
        await using (var s = await host.ConnectAsync(student))
        {
            Assert.Equal("ack", (await s.RequestAsync(new { type = "join", id = "j-1", group = open })).Type());
        }

        var reply = await host.Api.GetAsync($"/api/users/{student}/conversations", await host.Api.TokenAsync(student));

        var list = reply.Body.EnumerateArray().ToDictionary(c => c.Str("conversation")!, c => c.GetProperty("seq").GetInt64());
        Assert.Equal(1, list[Protocol.Group(open)]);
        Assert.Equal(0, list[Protocol.Group(closed)]);
    }

    [Fact]
    public async Task The_conversation_list_is_forbidden_to_another_user_but_allowed_to_an_admin()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await host.Api.PostAsync("/api/messages", await host.Api.TokenAsync(alice), new { to = $"user:{bob}", body = 1 });

        var asBob = await host.Api.GetAsync($"/api/users/{alice}/conversations", await host.Api.TokenAsync(bob));
        var asTeacher = await host.Api.GetAsync($"/api/users/{alice}/conversations", await host.Api.TokenAsync(SiloHostFixture.NewId("t"), "teacher"));
        var asAdmin = await host.Api.GetAsync($"/api/users/{alice}/conversations", await host.Api.TokenAsync(SiloHostFixture.NewId("root"), "admin"));

        Protocol.AssertProblem(asBob, 403, "forbidden");
        Protocol.AssertProblem(asTeacher, 403, "forbidden");
        Assert.Equal(200, asAdmin.Status);
        Assert.Equal(Protocol.Dm(alice, bob), Assert.Single(asAdmin.Body.EnumerateArray()).Str("conversation"));
    }
}
