using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Endpoints;

/// <summary>docs/protocol.md "Groups" over REST: creation, policy, members, roles, the last owner.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class GroupsApiTests(SiloHostFixture host)
{
    [Fact]
    public async Task PUT_creates_a_group_with_201_and_the_caller_as_owner_then_updates_it_with_200()
    {
        var group = SiloHostFixture.NewId("g");
        var teacher = SiloHostFixture.NewId("teacher");
        var token = await host.Api.TokenAsync(teacher, "teacher");

        var created = await host.Api.PutAsync($"/api/groups/{group}", token, new { policy = "open" });
        var updated = await host.Api.PutAsync($"/api/groups/{group}", token, new { policy = "announce" });
        var read = await host.Api.GetAsync($"/api/groups/{group}", token);

        Assert.Equal(201, created.Status);
        Assert.Equal(200, updated.Status);
        Assert.Equal(200, read.Status);
        Assert.Equal(group, read.Body.Str("id"));
        Assert.Equal("announce", read.Body.Str("policy"));
        var member = Assert.Single(read.Body.GetProperty("members").EnumerateArray());
        Assert.Equal(teacher, member.Str("user"));
        Assert.Equal("owner", member.Str("role"));
    }

    [Fact]
    public async Task PUT_member_with_Prefer_return_minimal_answers_the_member_alone_and_still_adds_it()
    {
        var group = SiloHostFixture.NewId("g");
        var token = await host.Api.TokenAsync(SiloHostFixture.NewId("teacher"), "teacher");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", token, new { policy = "members" })).Status);
        var bob = SiloHostFixture.NewId("bob");

        var (status, body) = await host.Api.SendAsync(HttpMethod.Put, $"/api/groups/{group}/members/{bob}", token, new { role = "owner" }, ("Prefer", "respond-async, return=minimal"));

        Assert.Equal(200, status);
        Assert.Equal(bob, body.Str("user"));
        Assert.Equal("owner", body.Str("role"));
        Assert.False(body.TryGetProperty("members", out _));
        var read = await host.Api.GetAsync($"/api/groups/{group}", token);
        Assert.Contains(read.Body.GetProperty("members").EnumerateArray(), m => m.Str("user") == bob && m.Str("role") == "owner");

        // Without the preference the reply is the group, as before.
        var full = await host.Api.PutAsync($"/api/groups/{group}/members/{SiloHostFixture.NewId("carol")}", token, new { role = "member" });
        Assert.Equal(3, full.Body.GetProperty("members").GetArrayLength());
    }

    [Fact]
    public async Task An_admin_may_create_a_group_and_a_student_may_not()
    {
        var adminGroup = SiloHostFixture.NewId("g");
        var studentGroup = SiloHostFixture.NewId("g");

        var byAdmin = await host.Api.PutAsync($"/api/groups/{adminGroup}", await host.Api.TokenAsync(SiloHostFixture.NewId("admin"), "admin"), new { policy = "members" });
        var byStudent = await host.Api.PutAsync($"/api/groups/{studentGroup}", await host.Api.TokenAsync(SiloHostFixture.NewId("student")), new { policy = "open" });

        Assert.Equal(201, byAdmin.Status);
        Protocol.AssertProblem(byStudent, 403, "forbidden");
        var read = await host.Api.GetAsync($"/api/groups/{studentGroup}", await host.Api.TokenAsync(SiloHostFixture.NewId("x")));
        Protocol.AssertProblem(read, 404, "not_found");
    }

    [Theory]
    [InlineData("members", false)]
    [InlineData("announce", false)]
    [InlineData("open", true)]
    public async Task GET_shows_the_members_only_to_those_who_may_read_the_group_and_to_admins(string policy, bool outsiderSees)
    {
        var group = SiloHostFixture.NewId("g");
        var teacher = SiloHostFixture.NewId("teacher");
        var member = SiloHostFixture.NewId("member");
        var teacherToken = await host.Api.TokenAsync(teacher, "teacher");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", teacherToken, new { policy })).Status);
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/members/{member}", teacherToken, new { role = "member" })).Status);

        var byOutsider = await host.Api.GetAsync($"/api/groups/{group}", await host.Api.TokenAsync(SiloHostFixture.NewId("outsider")));
        var byMember = await host.Api.GetAsync($"/api/groups/{group}", await host.Api.TokenAsync(member));
        var byAdmin = await host.Api.GetAsync($"/api/groups/{group}", await host.Api.TokenAsync(SiloHostFixture.NewId("admin"), "admin"));

        Assert.Equal(200, byOutsider.Status);
        Assert.Equal(policy, byOutsider.Body.Str("policy"));
        Assert.Equal(outsiderSees, byOutsider.Body.TryGetProperty("members", out _));
        Assert.Equal(2, byMember.Body.GetProperty("members").GetArrayLength());
        Assert.Equal(2, byAdmin.Body.GetProperty("members").GetArrayLength());
    }

    [Theory]
    [InlineData("{\"policy\":\"secret\"}")]
    [InlineData("{}")]
    [InlineData("{\"policy\":1}")]
    [InlineData("not json")]
    public async Task PUT_with_a_bad_policy_is_400_bad_request(string body)
    {
        var reply = await host.Api.PutAsync($"/api/groups/{SiloHostFixture.NewId("g")}", await host.Api.TokenAsync(SiloHostFixture.NewId("t"), "teacher"), body);

        Protocol.AssertProblem(reply, 400, "bad_request");
    }

    [Fact]
    public async Task A_group_request_body_over_65536_bytes_is_413_too_large()
    {
        var group = SiloHostFixture.NewId("g");
        var token = await host.Api.TokenAsync(SiloHostFixture.NewId("t"), "teacher");

        var reply = await host.Api.PutAsync($"/api/groups/{group}", token, $"{{\"policy\":\"open\",\"padding\":\"{new string('p', 65_536)}\"}}");

        Protocol.AssertProblem(reply, 413, "too_large");
        Protocol.AssertProblem(await host.Api.GetAsync($"/api/groups/{group}", token), 404, "not_found");
    }

    [Fact]
    public async Task A_bad_group_id_is_400_bad_request()
    {
        var token = await host.Api.TokenAsync(SiloHostFixture.NewId("t"), "teacher");

        var put = await host.Api.PutAsync($"/api/groups/{new string('g', 65)}", token, new { policy = "open" });
        var get = await host.Api.GetAsync("/api/groups/bad%20id", token);

        Protocol.AssertProblem(put, 400, "bad_request");
        Protocol.AssertProblem(get, 400, "bad_request");
    }

    [Fact]
    public async Task Only_owners_and_admins_change_a_groups_policy()
    {
        var (group, ownerToken) = await CreateAsync("open");
        var member = SiloHostFixture.NewId("member");
        await host.Api.PutAsync($"/api/groups/{group}/members/{member}", ownerToken, new { role = "member" });

        var byMember = await host.Api.PutAsync($"/api/groups/{group}", await host.Api.TokenAsync(member, "teacher"), new { policy = "members" });
        var byOtherTeacher = await host.Api.PutAsync($"/api/groups/{group}", await host.Api.TokenAsync(SiloHostFixture.NewId("t"), "teacher"), new { policy = "members" });
        var byAdmin = await host.Api.PutAsync($"/api/groups/{group}", await host.Api.TokenAsync(SiloHostFixture.NewId("admin"), "admin"), new { policy = "announce" });

        Protocol.AssertProblem(byMember, 403, "forbidden");
        Protocol.AssertProblem(byOtherTeacher, 403, "forbidden");
        Assert.Equal(200, byAdmin.Status);
        Assert.Equal("announce", (await host.Api.GetAsync($"/api/groups/{group}", ownerToken)).Body.Str("policy"));
    }

    [Fact]
    public async Task The_owner_adds_members_with_PUT_and_removes_them_with_DELETE()
    {
        var (group, ownerToken) = await CreateAsync("members");
        var student = SiloHostFixture.NewId("student");

        var added = await host.Api.PutAsync($"/api/groups/{group}/members/{student}", ownerToken, new { role = "member" });
        var again = await host.Api.PutAsync($"/api/groups/{group}/members/{student}", ownerToken, new { role = "member" });
        var afterAdd = await host.Api.GetAsync($"/api/groups/{group}", ownerToken);
        var removed = await host.Api.DeleteAsync($"/api/groups/{group}/members/{student}", ownerToken);
        var afterRemove = await host.Api.GetAsync($"/api/groups/{group}", ownerToken);

        Assert.Equal(200, added.Status);
        Assert.Equal(200, again.Status);
        Assert.Equal("member", Role(afterAdd.Body, student));
        Assert.Equal(204, removed.Status);
        Assert.Null(Role(afterRemove.Body, student));
    }

    [Fact]
    public async Task Non_owners_may_not_add_or_remove_members_but_admins_may()
    {
        var (group, ownerToken) = await CreateAsync("members");
        var member = SiloHostFixture.NewId("member");
        var target = SiloHostFixture.NewId("target");
        await host.Api.PutAsync($"/api/groups/{group}/members/{member}", ownerToken, new { role = "member" });
        var memberToken = await host.Api.TokenAsync(member, "teacher");
        var adminToken = await host.Api.TokenAsync(SiloHostFixture.NewId("admin"), "admin");

        var addByMember = await host.Api.PutAsync($"/api/groups/{group}/members/{target}", memberToken, new { role = "member" });
        var addByAdmin = await host.Api.PutAsync($"/api/groups/{group}/members/{target}", adminToken, new { role = "member" });
        var removeByMember = await host.Api.DeleteAsync($"/api/groups/{group}/members/{target}", memberToken);
        var removeByAdmin = await host.Api.DeleteAsync($"/api/groups/{group}/members/{target}", adminToken);

        Protocol.AssertProblem(addByMember, 403, "forbidden");
        Assert.Equal(200, addByAdmin.Status);
        Protocol.AssertProblem(removeByMember, 403, "forbidden");
        Assert.Equal(204, removeByAdmin.Status);
    }

    [Fact]
    public async Task Any_member_may_leave_with_DELETE_of_itself()
    {
        var (group, ownerToken) = await CreateAsync("members");
        var student = SiloHostFixture.NewId("student");
        await host.Api.PutAsync($"/api/groups/{group}/members/{student}", ownerToken, new { role = "member" });

        var left = await host.Api.DeleteAsync($"/api/groups/{group}/members/{student}", await host.Api.TokenAsync(student));

        Assert.Equal(204, left.Status);
        Assert.Null(Role((await host.Api.GetAsync($"/api/groups/{group}", ownerToken)).Body, student));
    }

    [Fact]
    public async Task The_last_owner_cannot_leave_or_be_removed_but_may_once_another_owner_exists()
    {
        var (group, ownerToken) = await CreateAsync("open");
        var owner = TestTokens.Read(ownerToken).Subject;
        var admin = await host.Api.TokenAsync(SiloHostFixture.NewId("admin"), "admin");
        var second = SiloHostFixture.NewId("second");

        var leave = await host.Api.DeleteAsync($"/api/groups/{group}/members/{owner}", ownerToken);
        var removeByAdmin = await host.Api.DeleteAsync($"/api/groups/{group}/members/{owner}", admin);
        var promoted = await host.Api.PutAsync($"/api/groups/{group}/members/{second}", ownerToken, new { role = "owner" });
        var leaveNow = await host.Api.DeleteAsync($"/api/groups/{group}/members/{owner}", ownerToken);

        Protocol.AssertProblem(leave, 403, "forbidden");
        Protocol.AssertProblem(removeByAdmin, 403, "forbidden");
        Assert.Equal(200, promoted.Status);
        Assert.Equal(204, leaveNow.Status);
        var read = await host.Api.GetAsync($"/api/groups/{group}", admin);
        Assert.Null(Role(read.Body, owner));
        Assert.Equal("owner", Role(read.Body, second));
    }

    [Fact]
    public async Task Member_changes_on_an_unknown_group_are_404_not_found()
    {
        var group = SiloHostFixture.NewId("nogroup");
        var admin = await host.Api.TokenAsync(SiloHostFixture.NewId("admin"), "admin");

        var get = await host.Api.GetAsync($"/api/groups/{group}", admin);
        var put = await host.Api.PutAsync($"/api/groups/{group}/members/bob", admin, new { role = "member" });
        var delete = await host.Api.DeleteAsync($"/api/groups/{group}/members/bob", admin);

        Protocol.AssertProblem(get, 404, "not_found");
        Protocol.AssertProblem(put, 404, "not_found");
        Protocol.AssertProblem(delete, 404, "not_found");
    }

    [Fact]
    public async Task A_bad_member_role_is_400_bad_request()
    {
        var (group, ownerToken) = await CreateAsync("open");

        var reply = await host.Api.PutAsync($"/api/groups/{group}/members/{SiloHostFixture.NewId("s")}", ownerToken, new { role = "king" });

        Protocol.AssertProblem(reply, 400, "bad_request");
    }

    [Fact]
    public async Task A_member_added_over_REST_receives_the_groups_messages_live()
    {
        var (group, ownerToken) = await CreateAsync("members");
        var student = SiloHostFixture.NewId("student");
        await using var s = await host.ConnectAsync(student);

        await host.Api.PutAsync($"/api/groups/{group}/members/{student}", ownerToken, new { role = "member" });
        await host.Api.PostAsync("/api/messages", ownerToken, new { to = $"group:{group}", body = "hello class" });

        var message = await s.WaitForMessageAsync(Protocol.Group(group), 1);
        Assert.Equal("hello class", message.GetProperty("body").GetString());
    }

    [Fact]
    public async Task A_member_removed_over_REST_receives_no_more_live_messages()
    {
        var (group, ownerToken) = await CreateAsync("members");
        var student = SiloHostFixture.NewId("student");
        var witness = SiloHostFixture.NewId("witness");
        await host.Api.PutAsync($"/api/groups/{group}/members/{student}", ownerToken, new { role = "member" });
        await host.Api.PutAsync($"/api/groups/{group}/members/{witness}", ownerToken, new { role = "member" });
        await using var s = await host.ConnectAsync(student);
        await using var w = await host.ConnectAsync(witness);

        Assert.Equal(204, (await host.Api.DeleteAsync($"/api/groups/{group}/members/{student}", ownerToken)).Status);
        await host.Api.PostAsync("/api/messages", ownerToken, new { to = $"group:{group}", body = "members only" });

        await w.WaitForMessageAsync(Protocol.Group(group), 1);
        await s.PingAsync();
        Assert.Empty(s.Messages(Protocol.Group(group)));
    }

    private static string? Role(JsonElement group, string user) =>
        group.GetProperty("members").EnumerateArray().Where(m => m.Str("user") == user).Select(m => m.Str("role")).SingleOrDefault();

    private async Task<(string Group, string OwnerToken)> CreateAsync(string policy)
    {
        var group = SiloHostFixture.NewId("g");
        var token = await host.Api.TokenAsync(SiloHostFixture.NewId("owner"), "teacher");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", token, new { policy })).Status);
        return (group, token);
    }
}
