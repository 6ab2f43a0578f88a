using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>Limits that hold over all of a user's sockets and REST together, per group, per REST user, and per resume.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(BudgetHostCollection.Name)]
public sealed class BudgetTests(BudgetHostFixture host)
{
    [Fact]
    public async Task A_users_send_budget_counts_every_socket_and_REST_together()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var token = TestTokens.Mint(alice);
        await using var laptop = await SocketClient.ConnectAsync(host.BaseAddress, token);
        await using var phone = await SocketClient.ConnectAsync(host.BaseAddress, token);
        var to = $"user:{bob}";

        Assert.Equal("ack", (await laptop.SendMessageAsync(to, 1)).Type());
        Assert.Equal("ack", (await laptop.SendMessageAsync(to, 2)).Type());
        Assert.Equal("ack", (await phone.SendMessageAsync(to, 3)).Type());
        Assert.Equal(200, (await host.Api.PostAsync("/api/messages", token, new { to, body = 4 })).Status);

        Protocol.AssertError(await phone.SendMessageAsync(to, 5, id: "over"), "over", "rate_limited");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages") { Content = System.Net.Http.Json.JsonContent.Create(new { to, body = 6 }) };
        request.Headers.Authorization = new("Bearer", token);
        using var response = await host.Api.Http.SendAsync(request);
        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());

        // Refused sends are not stored: bob's history holds the four accepted ones.
        var (status, history) = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", TestTokens.Mint(bob));
        Assert.Equal(200, status);
        Assert.Equal(4, history.GetArrayLength());
    }

    [Fact]
    public async Task A_groups_post_rate_counts_all_its_posters_together()
    {
        var teacher = SiloHostFixture.NewId("teacher");
        var group = SiloHostFixture.NewId("open");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", TestTokens.Mint(teacher, "teacher"), new { policy = "open" })).Status);
        await using var amy = await host.ConnectAsync(SiloHostFixture.NewId("amy"));
        await using var tom = await host.ConnectAsync(SiloHostFixture.NewId("tom"));
        var to = $"group:{group}";

        Assert.Equal("ack", (await amy.SendMessageAsync(to, 1)).Type());
        Assert.Equal("ack", (await tom.SendMessageAsync(to, 2)).Type());
        Assert.Equal("ack", (await amy.SendMessageAsync(to, 3)).Type());

        var refused = await tom.SendMessageAsync(to, 4, id: "fourth");
        Protocol.AssertError(refused, "fourth", "rate_limited");
        Assert.Contains(group, refused.Str("message"));
    }

    [Fact]
    public async Task REST_is_limited_per_user_with_Retry_After_and_other_users_are_not_affected()
    {
        var carol = SiloHostFixture.NewId("carol");
        var token = TestTokens.Mint(carol);
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(200, (await host.Api.GetAsync($"/api/users/{carol}/presence", token)).Status);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/users/{carol}/presence");
        request.Headers.Authorization = new("Bearer", token);
        using var response = await host.Api.Http.SendAsync(request);
        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        Assert.Contains("rate_limited", await response.Content.ReadAsStringAsync());

        var dave = SiloHostFixture.NewId("dave");
        Assert.Equal(200, (await host.Api.GetAsync($"/api/users/{carol}/presence", TestTokens.Mint(dave))).Status);
    }

    [Fact]
    public async Task A_resume_may_name_at_most_the_configured_number_of_conversations()
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var socket = await host.ConnectAsync(alice);
        var three = Enumerable.Range(0, 3).ToDictionary(i => Protocol.Dm(alice, $"peer-{i}"), _ => 0L);
        var four = Enumerable.Range(0, 4).ToDictionary(i => Protocol.Dm(alice, $"peer-{i}"), _ => 0L);

        Assert.Equal("ack", (await socket.RequestAsync(new { type = "resume", id = "r3", since = three })).Type());
        var refused = await socket.RequestAsync(new { type = "resume", id = "r4", since = four });
        Protocol.AssertError(refused, "r4", "bad_request");
        Assert.Contains("at most 3", refused.Str("message"));
    }

    [Fact]
    public async Task A_full_group_refuses_new_members_whether_added_or_joining()
    {
        var teacher = TestTokens.Mint(SiloHostFixture.NewId("teacher"), "teacher");
        var group = SiloHostFixture.NewId("small");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", teacher, new { policy = "open" })).Status);
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/members/{SiloHostFixture.NewId("amy")}", teacher, new { role = "member" })).Status);
        await using var tom = await host.ConnectAsync(SiloHostFixture.NewId("tom"));
        Assert.Equal("ack", (await tom.RequestAsync(new { type = "join", id = "j1", group })).Type());

        var added = await host.Api.PutAsync($"/api/groups/{group}/members/{SiloHostFixture.NewId("ann")}", teacher, new { role = "member" });
        Protocol.AssertProblem(added, 403, "forbidden");
        Assert.Contains("full", added.Body.Str("detail"));
        await using var sam = await host.ConnectAsync(SiloHostFixture.NewId("sam"));
        Protocol.AssertError(await sam.RequestAsync(new { type = "join", id = "j2", group }), "j2", "forbidden");

        // Nothing was added past the limit.
        Assert.Equal(3, (await host.Api.GetAsync($"/api/groups/{group}", teacher)).Body.GetProperty("members").GetArrayLength());
    }

    [Fact]
    public async Task A_user_in_as_many_groups_as_allowed_cannot_join_be_added_to_or_create_another()
    {
        var teacherId = SiloHostFixture.NewId("teacher");
        var teacher = TestTokens.Mint(teacherId, "teacher");
        var groups = Enumerable.Range(0, 3).Select(i => SiloHostFixture.NewId($"g{i}")).ToArray();
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{groups[0]}", teacher, new { policy = "open" })).Status);
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{groups[1]}", teacher, new { policy = "open" })).Status);

        // The teacher owns two groups: a third is refused.
        Protocol.AssertProblem(await host.Api.PutAsync($"/api/groups/{groups[2]}", teacher, new { policy = "open" }), 403, "forbidden");

        var otherTeacher = TestTokens.Mint(SiloHostFixture.NewId("teacher"), "teacher");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{groups[2]}", otherTeacher, new { policy = "open" })).Status);
        var alice = SiloHostFixture.NewId("alice");
        await using var socket = await host.ConnectAsync(alice);
        Assert.Equal("ack", (await socket.RequestAsync(new { type = "join", id = "j0", group = groups[0] })).Type());
        Assert.Equal("ack", (await socket.RequestAsync(new { type = "join", id = "j1", group = groups[1] })).Type());

        var third = await socket.RequestAsync(new { type = "join", id = "j2", group = groups[2] });
        Protocol.AssertError(third, "j2", "forbidden");
        Assert.Contains("2 groups", third.Str("message"));
        Protocol.AssertProblem(await host.Api.PutAsync($"/api/groups/{groups[2]}/members/{alice}", otherTeacher, new { role = "member" }), 403, "forbidden");

        // Leaving one makes room again.
        Assert.Equal("ack", (await socket.RequestAsync(new { type = "leave", id = "l0", group = groups[0] })).Type());
        Assert.Equal("ack", (await socket.RequestAsync(new { type = "join", id = "j3", group = groups[2] })).Type());
    }
}
