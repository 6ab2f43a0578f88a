using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md "Groups" over the socket: join, leave, policies, live delivery to members.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class GroupTests(SiloHostFixture host)
{
    [Fact]
    public async Task Anyone_may_join_an_open_group_and_then_receives_its_messages_live()
    {
        var (group, owner) = await CreateGroupAsync("open");
        var student = SiloHostFixture.NewId("student");
        await using var s = await host.ConnectAsync(student);
        await using var o = await host.ConnectAsync(owner, "teacher");

        var join = await s.RequestAsync(new { type = "join", id = "j-1", group });
        await o.SendMessageAsync($"group:{group}", "welcome all");

        Assert.Equal("ack", join.Type());
        Assert.Equal("j-1", join.Str("id"));
        var message = await s.WaitForMessageAsync(Protocol.Group(group), 1);
        Assert.Equal(owner, message.Str("from"));
        Assert.Equal($"group:{group}", message.Str("to"));
    }

    [Fact]
    public async Task Anyone_may_post_to_an_open_group_without_joining_and_is_not_subscribed_by_it()
    {
        var (group, owner) = await CreateGroupAsync("open");
        var outsider = SiloHostFixture.NewId("outsider");
        await using var o = await host.ConnectAsync(owner, "teacher");
        await using var x = await host.ConnectAsync(outsider);

        var post = await x.SendMessageAsync($"group:{group}", "drive-by");
        var reply = await o.SendMessageAsync($"group:{group}", "reply");

        Assert.Equal("ack", post.Type());
        Assert.Equal(Protocol.Group(group), post.Str("conversation"));
        Assert.Equal(1, post.GetProperty("seq").GetInt64());
        Assert.Equal(2, reply.GetProperty("seq").GetInt64());
        await o.WaitForMessageAsync(Protocol.Group(group), 1);
        await x.PingAsync();
        Assert.Empty(x.Messages(Protocol.Group(group)));
        var members = await host.Api.GetAsync($"/api/groups/{group}", await host.Api.TokenAsync(outsider));
        Assert.DoesNotContain(members.Body.GetProperty("members").EnumerateArray(), m => m.Str("user") == outsider);
    }

    [Fact]
    public async Task Join_and_leave_are_idempotent()
    {
        var (group, owner) = await CreateGroupAsync("open");
        var student = SiloHostFixture.NewId("student");
        await using var s = await host.ConnectAsync(student);
        var token = await host.Api.TokenAsync(owner, "teacher");

        var joins = new[]
        {
            await s.RequestAsync(new { type = "join", id = "j-1", group }),
            await s.RequestAsync(new { type = "join", id = "j-2", group }),
        };
        var afterJoins = await host.Api.GetAsync($"/api/groups/{group}", token);
        var leaves = new[]
        {
            await s.RequestAsync(new { type = "leave", id = "l-1", group }),
            await s.RequestAsync(new { type = "leave", id = "l-2", group }),
        };
        var afterLeaves = await host.Api.GetAsync($"/api/groups/{group}", token);

        Assert.All(joins.Concat(leaves), reply => Assert.Equal("ack", reply.Type()));
        Assert.Single(afterJoins.Body.GetProperty("members").EnumerateArray(), m => m.Str("user") == student && m.Str("role") == "member");
        Assert.DoesNotContain(afterLeaves.Body.GetProperty("members").EnumerateArray(), m => m.Str("user") == student);
    }

    [Fact]
    public async Task A_member_who_left_receives_no_more_live_messages()
    {
        var (group, owner) = await CreateGroupAsync("open");
        var student = SiloHostFixture.NewId("student");
        var other = SiloHostFixture.NewId("other");
        await using var s = await host.ConnectAsync(student);
        await using var witness = await host.ConnectAsync(other);
        await using var o = await host.ConnectAsync(owner, "teacher");
        await s.RequestAsync(new { type = "join", id = "j-1", group });
        await witness.RequestAsync(new { type = "join", id = "j-1", group });
        await o.SendMessageAsync($"group:{group}", "one");
        await s.WaitForMessageAsync(Protocol.Group(group), 1);

        var leave = await s.RequestAsync(new { type = "leave", id = "l-1", group });
        await o.SendMessageAsync($"group:{group}", "two");

        Assert.Equal("ack", leave.Type());
        await witness.WaitForMessageAsync(Protocol.Group(group), 2);
        await s.PingAsync();
        Assert.Equal([1L], Protocol.Seqs(s.Messages(Protocol.Group(group))));
    }

    [Fact]
    public async Task Membership_belongs_to_the_user_across_devices_and_reconnects()
    {
        var (group, owner) = await CreateGroupAsync("open");
        var student = SiloHostFixture.NewId("student");
        await using var o = await host.ConnectAsync(owner, "teacher");
        await using var phone = await host.ConnectAsync(student);
        await using var laptop = await host.ConnectAsync(student);

        await phone.RequestAsync(new { type = "join", id = "j-1", group });
        await o.SendMessageAsync($"group:{group}", "one");

        await laptop.WaitForMessageAsync(Protocol.Group(group), 1);
        await phone.WaitForMessageAsync(Protocol.Group(group), 1);
        await phone.DisposeAsync();
        await laptop.DisposeAsync();
        await using var later = await host.ConnectAsync(student);
        await o.SendMessageAsync($"group:{group}", "two");
        await later.WaitForMessageAsync(Protocol.Group(group), 2);
    }

    [Fact]
    public async Task A_members_group_refuses_join_and_posts_from_non_members()
    {
        var (group, owner) = await CreateGroupAsync("members");
        var outsider = SiloHostFixture.NewId("outsider");
        await using var x = await host.ConnectAsync(outsider);

        var join = await x.RequestAsync(new { type = "join", id = "j-1", group });
        var post = await x.SendMessageAsync($"group:{group}", "let me in", id: "p-1");

        Protocol.AssertError(join, "j-1", "forbidden");
        Protocol.AssertError(post, "p-1", "forbidden");
        await x.PingAsync();
        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Group(group)}/messages", await host.Api.TokenAsync(owner, "teacher"));
        Assert.Equal(0, history.Body.GetArrayLength());
    }

    [Fact]
    public async Task In_a_members_group_members_added_by_the_owner_post_and_receive_live()
    {
        var (group, owner) = await CreateGroupAsync("members");
        var student = SiloHostFixture.NewId("student");
        await using var o = await host.ConnectAsync(owner, "teacher");
        await using var s = await host.ConnectAsync(student);

        var added = await host.Api.PutAsync($"/api/groups/{group}/members/{student}", await host.Api.TokenAsync(owner, "teacher"), new { role = "member" });
        var post = await s.SendMessageAsync($"group:{group}", "thanks");
        var answer = await o.SendMessageAsync($"group:{group}", "welcome");

        Assert.Equal(200, added.Status);
        Assert.Equal("ack", post.Type());
        await o.WaitForMessageAsync(Protocol.Group(group), 1);
        await s.WaitForMessageAsync(Protocol.Group(group), 2);
    }

    [Fact]
    public async Task In_an_announce_group_anyone_may_join_to_read_but_only_owners_and_admins_post()
    {
        var (group, owner) = await CreateGroupAsync("announce");
        var student = SiloHostFixture.NewId("student");
        var otherTeacher = SiloHostFixture.NewId("teacher");
        var admin = SiloHostFixture.NewId("admin");
        await using var s = await host.ConnectAsync(student);
        await using var t = await host.ConnectAsync(otherTeacher, "teacher");
        await using var o = await host.ConnectAsync(owner, "teacher");
        await using var a = await host.ConnectAsync(admin, "admin");

        var join = await s.RequestAsync(new { type = "join", id = "j-1", group });
        var memberPost = await s.SendMessageAsync($"group:{group}", "may I?", id: "p-1");
        var teacherPost = await t.SendMessageAsync($"group:{group}", "me?", id: "p-2");
        var ownerPost = await o.SendMessageAsync($"group:{group}", "announcement");
        var adminPost = await a.SendMessageAsync($"group:{group}", "from the office");

        Assert.Equal("ack", join.Type());
        Protocol.AssertError(memberPost, "p-1", "forbidden");
        Protocol.AssertError(teacherPost, "p-2", "forbidden");
        Assert.Equal(1, ownerPost.GetProperty("seq").GetInt64());
        Assert.Equal(2, adminPost.GetProperty("seq").GetInt64());
        await s.WaitForMessageAsync(Protocol.Group(group), 2);
        Assert.Equal([1L, 2L], Protocol.Seqs(s.Messages(Protocol.Group(group))));
    }

    [Fact]
    public async Task The_last_owner_cannot_leave()
    {
        var (group, owner) = await CreateGroupAsync("open");
        await using var o = await host.ConnectAsync(owner, "teacher");

        var leave = await o.RequestAsync(new { type = "leave", id = "l-1", group });

        Protocol.AssertError(leave, "l-1", "forbidden");
        var info = await host.Api.GetAsync($"/api/groups/{group}", await host.Api.TokenAsync(owner, "teacher"));
        Assert.Contains(info.Body.GetProperty("members").EnumerateArray(), m => m.Str("user") == owner && m.Str("role") == "owner");
        await o.PingAsync();
    }

    [Fact]
    public async Task Join_leave_and_send_to_an_unknown_group_are_not_found()
    {
        var group = SiloHostFixture.NewId("nogroup");
        await using var s = await host.ConnectAsync(SiloHostFixture.NewId("student"));

        var join = await s.RequestAsync(new { type = "join", id = "j-1", group });
        var leave = await s.RequestAsync(new { type = "leave", id = "l-1", group });
        var send = await s.SendMessageAsync($"group:{group}", "anyone?", id: "s-1");

        Protocol.AssertError(join, "j-1", "not_found");
        Protocol.AssertError(leave, "l-1", "not_found");
        Protocol.AssertError(send, "s-1", "not_found");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("bad group")]
    public async Task Join_with_a_bad_group_id_is_a_bad_request(string? group)
    {
        await using var s = await host.ConnectAsync(SiloHostFixture.NewId("student"));

        var join = await s.RequestAsync(new { type = "join", id = "j-1", group });

        Protocol.AssertError(join, "j-1", "bad_request");
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
