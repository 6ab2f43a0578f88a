using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Endpoints;

/// <summary>docs/protocol.md "REST": every endpoint but the dev token needs a token; dev tokens are real tokens.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class RestAuthTests(SiloHostFixture host)
{
    public static TheoryData<string, string> Endpoints() => new()
    {
        { "POST", "/api/messages" },
        { "PUT", "/api/groups/g1" },
        { "GET", "/api/groups/g1" },
        { "PUT", "/api/groups/g1/members/bob" },
        { "DELETE", "/api/groups/g1/members/bob" },
        { "GET", "/api/conversations/dm:alice:bob/messages" },
        { "GET", "/api/users/alice/presence" },
        { "GET", "/api/users/alice/conversations" },
        { "DELETE", "/api/users/alice/connections" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Every_endpoint_refuses_a_request_without_a_token_with_401_problem_details(string method, string path)
    {
        var body = method is "POST" or "PUT" ? new { to = "user:bob", body = "x", policy = "open", role = "member" } : null;

        var reply = await host.Api.SendAsync(new HttpMethod(method), path, token: null, body);

        Protocol.AssertProblem(reply, 401, "unauthorized");
    }

    [Theory]
    [InlineData(null, "/api/users/alice/presence", 401)]
    [InlineData("student", "/api/users/bad%20id/presence", 400)]
    [InlineData("student", "/api/conversations/dm:a:b/messages?limit=many", 400)]
    [InlineData("student", "/api/users/someone-else/conversations", 403)]
    [InlineData("student", "/api/groups/no-such-group-ever", 404)]
    public async Task Errors_are_problem_details_documents(string? role, string path, int status)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (role is not null)
        {
            request.Headers.Authorization = new("Bearer", await host.Api.TokenAsync(SiloHostFixture.NewId("caller"), role));
        }

        using var response = await host.Api.Http.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_dev_token_needs_no_token_and_is_valid_for_at_least_an_hour_with_the_configured_issuer_and_audience()
    {
        var alice = SiloHostFixture.NewId("alice");

        var reply = await host.Api.PostAsync("/api/dev/token", token: null, new { user = alice, role = "teacher" });

        // A cluster in secure mode has dev tokens off: the silos do not map the endpoint and the gateway answers 404 itself.
        if (!host.DevTokens)
        {
            Assert.Equal(404, reply.Status);
            return;
        }

        Assert.Equal(200, reply.Status);
        var token = TestTokens.Read(reply.Body.Str("token")!);
        Assert.Equal(alice, token.Subject);
        Assert.Equal("teacher", token.GetClaim("role").Value);
        Assert.Equal("switchboard", token.Issuer);
        Assert.Contains("switchboard", token.Audiences);
        Assert.True(token.ValidTo >= DateTime.UtcNow.AddHours(1).AddMinutes(-1), $"valid to {token.ValidTo:O}");
    }

    [Theory]
    [InlineData("{\"user\":\"has space\"}")]
    [InlineData("{\"user\":\"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu\"}")]
    [InlineData("{\"user\":\"\"}")]
    [InlineData("{}")]
    [InlineData("not json")]
    public async Task A_dev_token_for_a_bad_user_id_is_a_bad_request(string body)
    {
        var reply = await host.Api.PostAsync("/api/dev/token", token: null, body);

        // With dev tokens off nothing reads the body: the endpoint is not there, whatever is asked of it.
        if (!host.DevTokens)
        {
            Assert.Equal(404, reply.Status);
            return;
        }

        Protocol.AssertProblem(reply, 400, "bad_request");
    }

    [Fact]
    public async Task User_ids_are_case_sensitive()
    {
        var id = SiloHostFixture.NewId("Alice");
        await using var upper = await host.ConnectAsync(id);
        var observer = await host.Api.TokenAsync(SiloHostFixture.NewId("observer"));

        var lowerPresence = await host.Api.GetAsync($"/api/users/{id.ToLowerInvariant()}/presence", observer);
        var upperPresence = await host.Api.GetAsync($"/api/users/{id}/presence", observer);

        Assert.False(lowerPresence.Body.GetProperty("online").GetBoolean());
        Assert.True(upperPresence.Body.GetProperty("online").GetBoolean());
    }
}
