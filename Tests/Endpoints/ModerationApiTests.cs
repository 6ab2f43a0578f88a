using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Endpoints;

/// <summary>docs/protocol.md "Moderation" (1.1): mutes with and without an end, bans in every policy, who sees them.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class ModerationApiTests(SiloHostFixture host)
{
    [Fact]
    public async Task A_muted_member_may_not_post_and_is_told_until_when_and_after_DELETE_may_again()
    {
        var (group, ownerToken) = await CreateGroupAsync("members");
        var member = SiloHostFixture.NewId("member");
        await AddMemberAsync(group, ownerToken, member);
        var memberToken = await host.Api.TokenAsync(member);

        var muted = await host.Api.PutAsync($"/api/groups/{group}/mutes/{member}", ownerToken, new { until = "2099-12-06T12:00:00Z" });
        var refused = await PostAsync(memberToken, group, "hello?");
        var unmuted = await host.Api.DeleteAsync($"/api/groups/{group}/mutes/{member}", ownerToken);
        var again = await host.Api.DeleteAsync($"/api/groups/{group}/mutes/{member}", ownerToken);
        var allowed = await PostAsync(memberToken, group, "hello");

        Assert.Equal(200, muted.Status);
        Assert.Equal(member, muted.Body.Str("user"));
        Assert.Equal("2099-12-06T12:00:00.000Z", muted.Body.Str("until"));
        Protocol.AssertProblem(refused, 403, "forbidden");
        Assert.Contains("until 2099-12-06T12:00:00.000Z", refused.Body.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(204, unmuted.Status);
        Assert.Equal(204, again.Status);
        Assert.Equal(200, allowed.Status);
    }

    [Fact]
    public async Task A_mute_without_until_lasts_until_unmuted_and_also_holds_on_the_socket()
    {
        var (group, ownerToken) = await CreateGroupAsync("open");
        var poster = SiloHostFixture.NewId("poster");

        var muted = await host.Api.PutAsync($"/api/groups/{group}/mutes/{poster}", ownerToken, new { });
        await using var socket = await host.ConnectAsync(poster);
        var refused = await socket.SendMessageAsync(Protocol.Group(group), "spam", id: "s-1");

        Assert.Equal(200, muted.Status);
        Assert.Equal(JsonValueKind.Null, muted.Body.GetProperty("until").ValueKind);
        Protocol.AssertError(refused, "s-1", "forbidden");
        Assert.Contains("until unmuted", refused.Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_mute_stops_applying_by_itself()
    {
        var (group, ownerToken) = await CreateGroupAsync("open");
        var poster = SiloHostFixture.NewId("poster");
        var posterToken = await host.Api.TokenAsync(poster);
        var until = DateTimeOffset.UtcNow.AddSeconds(2);

        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/mutes/{poster}", ownerToken, new { until = until.ToString("O") })).Status);
        Protocol.AssertProblem(await PostAsync(posterToken, group, "early"), 403, "forbidden");

        // Nothing lifts it but the clock: the first post after the end goes through.
        await Wait.UntilAsync(async () => DateTimeOffset.UtcNow > until && (await PostAsync(posterToken, group, "later")).Status == 200, "the mute ends");
        var read = await host.Api.GetAsync($"/api/groups/{group}", ownerToken);
        Assert.Empty(read.Body.GetProperty("mutes").EnumerateArray());
    }

    [Fact]
    public async Task Owners_are_muted_and_banned_only_by_admins_and_members_moderate_nobody()
    {
        var (group, ownerToken) = await CreateGroupAsync("members");
        var coOwner = SiloHostFixture.NewId("coowner");
        var member = SiloHostFixture.NewId("member");
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/members/{coOwner}", ownerToken, new { role = "owner" })).Status);
        await AddMemberAsync(group, ownerToken, member);
        var adminToken = await host.Api.TokenAsync(SiloHostFixture.NewId("admin"), "admin");
        var memberToken = await host.Api.TokenAsync(member);

        Protocol.AssertProblem(await host.Api.PutAsync($"/api/groups/{group}/mutes/{coOwner}", ownerToken, new { }), 403, "forbidden");
        Protocol.AssertProblem(await host.Api.PutAsync($"/api/groups/{group}/bans/{coOwner}", ownerToken, new { }), 403, "forbidden");
        Protocol.AssertProblem(await host.Api.PutAsync($"/api/groups/{group}/mutes/{coOwner}", memberToken, new { }), 403, "forbidden");
        Protocol.AssertProblem(await host.Api.PutAsync($"/api/groups/{group}/bans/{SiloHostFixture.NewId("x")}", memberToken, new { }), 403, "forbidden");
        Protocol.AssertProblem(await host.Api.DeleteAsync($"/api/groups/{group}/mutes/{member}", memberToken), 403, "forbidden");
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/mutes/{coOwner}", adminToken, new { })).Status);
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/mutes/{member}", ownerToken, new { })).Status);

        var read = await host.Api.GetAsync($"/api/groups/{group}", adminToken);
        Assert.Equal(new[] { coOwner, member }.Order(StringComparer.Ordinal), read.Body.GetProperty("mutes").EnumerateArray().Select(m => m.Str("user")!).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("{\"until\":\"soon\"}")]
    [InlineData("{\"until\":12}")]
    [InlineData("{\"until\":\"2001-01-01T00:00:00Z\"}")]
    [InlineData("[]")]
    public async Task A_mute_with_a_bad_or_past_until_is_400(string body)
    {
        var (group, ownerToken) = await CreateGroupAsync("open");

        Protocol.AssertProblem(await host.Api.PutAsync($"/api/groups/{group}/mutes/{SiloHostFixture.NewId("u")}", ownerToken, body), 400, "bad_request");
    }

    [Fact]
    public async Task GET_shows_mutes_and_bans_to_owners_and_admins_only()
    {
        var (group, ownerToken) = await CreateGroupAsync("open");
        var member = SiloHostFixture.NewId("member");
        var muted = SiloHostFixture.NewId("muted");
        var banned = SiloHostFixture.NewId("banned");
        await AddMemberAsync(group, ownerToken, member);
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/mutes/{muted}", ownerToken, new { until = "2099-01-01T00:00:00Z" })).Status);
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/bans/{banned}", ownerToken, new { })).Status);

        var byOwner = await host.Api.GetAsync($"/api/groups/{group}", ownerToken);
        var byAdmin = await host.Api.GetAsync($"/api/groups/{group}", await host.Api.TokenAsync(SiloHostFixture.NewId("admin"), "admin"));
        var byMember = await host.Api.GetAsync($"/api/groups/{group}", await host.Api.TokenAsync(member));
        var byBanned = await host.Api.GetAsync($"/api/groups/{group}", await host.Api.TokenAsync(banned));

        foreach (var reply in new[] { byOwner, byAdmin })
        {
            var mute = Assert.Single(reply.Body.GetProperty("mutes").EnumerateArray());
            Assert.Equal(muted, mute.Str("user"));
            Assert.Equal("2099-01-01T00:00:00.000Z", mute.Str("until"));
            Assert.Equal(banned, Assert.Single(reply.Body.GetProperty("bans").EnumerateArray()).Str("user"));
        }

        Assert.True(byMember.Body.TryGetProperty("members", out _));
        Assert.False(byMember.Body.TryGetProperty("mutes", out _));
        Assert.False(byMember.Body.TryGetProperty("bans", out _));

        // An open group shows its members to anyone who may read it: a banned user may not.
        Assert.Equal(200, byBanned.Status);
        Assert.False(byBanned.Body.TryGetProperty("members", out _));
        Assert.False(byBanned.Body.TryGetProperty("bans", out _));
    }

    [Theory]
    [InlineData("open")]
    [InlineData("members")]
    [InlineData("announce")]
    public async Task A_banned_user_may_not_join_post_read_or_resume_whatever_the_policy_until_the_ban_is_lifted(string policy)
    {
        var (group, ownerToken) = await CreateGroupAsync(policy);
        var user = SiloHostFixture.NewId("user");
        await AddMemberAsync(group, ownerToken, user);
        Assert.Equal(200, (await PostAsync(ownerToken, group, "before")).Status);

        var banned = await host.Api.PutAsync($"/api/groups/{group}/bans/{user}", ownerToken, new { });
        var bannedAgain = await host.Api.PutAsync($"/api/groups/{group}/bans/{user}", ownerToken, new { });
        var userToken = await host.Api.TokenAsync(user);
        await using var socket = await host.ConnectAsync(user);
        var join = await socket.RequestAsync(new { type = "join", id = "j-1", group });
        var post = await socket.SendMessageAsync(Protocol.Group(group), "let me in", id: "s-1");
        var resume = await socket.RequestAsync(new { type = "resume", id = "r-1", since = new Dictionary<string, long> { [Protocol.Group(group)] = 0 } });
        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Group(group)}/messages", userToken);
        var readd = await host.Api.PutAsync($"/api/groups/{group}/members/{user}", ownerToken, new { role = "member" });
        var roster = await host.Api.GetAsync($"/api/groups/{group}", ownerToken);

        Assert.Equal(200, banned.Status);
        Assert.Equal(user, banned.Body.Str("user"));
        Assert.Equal(200, bannedAgain.Status);
        Protocol.AssertError(join, "j-1", "forbidden");
        Protocol.AssertError(post, "s-1", "forbidden");
        Protocol.AssertError(resume, "r-1", "forbidden");
        Assert.Empty(socket.Messages(Protocol.Group(group)));
        Protocol.AssertProblem(history, 403, "forbidden");
        Protocol.AssertProblem(readd, 403, "forbidden");
        Assert.DoesNotContain(roster.Body.GetProperty("members").EnumerateArray(), m => m.Str("user") == user);

        // Lifted: the user is not a member again, but may do whatever the policy lets anyone do.
        Assert.Equal(204, (await host.Api.DeleteAsync($"/api/groups/{group}/bans/{user}", ownerToken)).Status);
        Assert.Equal(204, (await host.Api.DeleteAsync($"/api/groups/{group}/bans/{user}", ownerToken)).Status);
        var rejoin = await socket.RequestAsync(new { type = "join", id = "j-2", group });
        Assert.Equal(policy == "members" ? "error" : "ack", rejoin.Type());
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/members/{user}", ownerToken, new { role = "member" })).Status);
        Assert.Equal(200, (await host.Api.GetAsync($"/api/conversations/{Protocol.Group(group)}/messages", userToken)).Status);
    }

    [Fact]
    public async Task The_last_owner_cannot_be_banned_even_by_an_admin()
    {
        var owner = SiloHostFixture.NewId("owner");
        var group = SiloHostFixture.NewId("g");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", await host.Api.TokenAsync(owner, "teacher"), new { policy = "open" })).Status);

        var reply = await host.Api.PutAsync($"/api/groups/{group}/bans/{owner}", await host.Api.TokenAsync(SiloHostFixture.NewId("admin"), "admin"), new { });

        Protocol.AssertProblem(reply, 403, "forbidden");
    }

    [Fact]
    public async Task A_ban_cuts_the_banned_users_open_socket_off_the_group_before_the_PUT_answers()
    {
        var (group, ownerToken) = await CreateGroupAsync("members");
        var banned = SiloHostFixture.NewId("banned");
        var witness = SiloHostFixture.NewId("witness");
        await AddMemberAsync(group, ownerToken, banned);
        await AddMemberAsync(group, ownerToken, witness);
        await using var b = await host.ConnectAsync(banned);
        await using var w = await host.ConnectAsync(witness);
        Assert.Equal(200, (await PostAsync(ownerToken, group, "one")).Status);
        await b.WaitForMessageAsync(Protocol.Group(group), 1);
        await w.WaitForMessageAsync(Protocol.Group(group), 1);

        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/bans/{banned}", ownerToken, new { })).Status);
        Assert.Equal(200, (await PostAsync(ownerToken, group, "two")).Status);

        // Both sockets are on this one silo, reached by the same per-silo call: once the witness has seq 2, the banned
        // socket would have it too had the silo not dropped its user before the ban answered.
        await w.WaitForMessageAsync(Protocol.Group(group), 2);
        await b.PingAsync();
        Assert.Equal([1L], b.Messages(Protocol.Group(group)).Select(m => m.GetProperty("seq").GetInt64()).ToArray());
    }

    private async Task<(string Group, string OwnerToken)> CreateGroupAsync(string policy)
    {
        var group = SiloHostFixture.NewId("g");
        var token = await host.Api.TokenAsync(SiloHostFixture.NewId("owner"), "teacher");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", token, new { policy })).Status);
        return (group, token);
    }

    private async Task AddMemberAsync(string group, string ownerToken, string user) =>
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/members/{user}", ownerToken, new { role = "member" })).Status);

    private Task<(int Status, JsonElement Body)> PostAsync(string token, string group, string body) =>
        host.Api.PostAsync("/api/messages", token, new { to = Protocol.Group(group), body });
}
