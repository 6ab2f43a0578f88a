using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Endpoints;

/// <summary>docs/protocol.md <c>POST /api/messages</c>: sending as the token's user, ids, size limit, errors.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class MessagesApiTests(SiloHostFixture host)
{
    private const int Limit = 65_536;

    [Fact]
    public async Task A_REST_send_returns_conversation_and_seq_and_reaches_the_recipient_live()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var b = await host.ConnectAsync(bob);

        var reply = await host.Api.PostAsync("/api/messages", await host.Api.TokenAsync(alice), new { to = $"user:{bob}", body = new { text = "hi" }, id = "r-1" });

        Assert.Equal(200, reply.Status);
        Assert.Equal(Protocol.Dm(alice, bob), reply.Body.Str("conversation"));
        Assert.Equal(1, reply.Body.GetProperty("seq").GetInt64());
        var message = await b.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
        Assert.Equal(alice, message.Str("from"));
        Assert.Equal("r-1", message.Str("id"));
        Assert.Equal("hi", message.GetProperty("body").GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_REST_send_without_an_id_gets_one_from_the_server_and_each_is_a_new_message()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var token = await host.Api.TokenAsync(alice);

        var first = await host.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = "same" });
        var second = await host.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = "same" });

        Assert.Equal(1, first.Body.GetProperty("seq").GetInt64());
        Assert.Equal(2, second.Body.GetProperty("seq").GetInt64());
        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", token);
        var ids = history.Body.EnumerateArray().Select(m => m.Str("id")).ToList();
        Assert.Equal(2, ids.Count);
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.NotEqual(ids[0], ids[1]);
    }

    [Fact]
    public async Task A_retried_REST_send_id_is_stored_once_whatever_its_to_and_body()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var carol = SiloHostFixture.NewId("carol");
        var token = await host.Api.TokenAsync(alice);

        var first = await host.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = "one", id = "dup" });
        var retry = await host.Api.PostAsync("/api/messages", token, new { to = $"user:{carol}", body = "two", id = "dup" });

        Assert.Equal(first.Body.Str("conversation"), retry.Body.Str("conversation"));
        Assert.Equal(first.Body.GetProperty("seq").GetInt64(), retry.Body.GetProperty("seq").GetInt64());
        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", token);
        Assert.Equal("one", Assert.Single(history.Body.EnumerateArray()).GetProperty("body").GetString());
    }

    [Fact]
    public async Task A_from_in_a_REST_send_is_ignored()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var token = await host.Api.TokenAsync(alice);

        await host.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = "x", from = SiloHostFixture.NewId("carol") });

        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", token);
        Assert.Equal(alice, Assert.Single(history.Body.EnumerateArray()).Str("from"));
    }

    [Fact]
    public async Task A_REST_body_of_exactly_65536_bytes_is_accepted()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");

        var reply = await host.Api.PostAsync("/api/messages", await host.Api.TokenAsync(alice), BodyOfSize($"user:{bob}", Limit));

        Assert.Equal(200, reply.Status);
        Assert.Equal(1, reply.Body.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task A_REST_body_over_65536_bytes_is_413_too_large_and_not_stored()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var token = await host.Api.TokenAsync(alice);

        var reply = await host.Api.PostAsync("/api/messages", token, BodyOfSize($"user:{bob}", Limit + 1));

        Protocol.AssertProblem(reply, 413, "too_large");
        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", token);
        Assert.Equal(0, history.Body.GetArrayLength());
    }

    [Fact]
    public async Task A_chunked_REST_body_over_65536_bytes_is_413_too_large()
    {
        var alice = SiloHostFixture.NewId("alice");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages")
        {
            Content = new ChunkedContent(Encoding.UTF8.GetBytes(BodyOfSize($"user:{SiloHostFixture.NewId("bob")}", Limit + 10_000))),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await host.Api.TokenAsync(alice));

        using var response = await host.Api.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("\"too_large\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_REST_send_to_oneself_is_a_bad_request()
    {
        var alice = SiloHostFixture.NewId("alice");

        var reply = await host.Api.PostAsync("/api/messages", await host.Api.TokenAsync(alice), new { to = $"user:{alice}", body = "me" });

        Protocol.AssertProblem(reply, 400, "bad_request");
    }

    [Theory]
    [InlineData("{\"to\":\"bob\",\"body\":1}")]
    [InlineData("{\"to\":\"user:bad id\",\"body\":1}")]
    [InlineData("{\"body\":1}")]
    [InlineData("{\"to\":\"user:bob\"}")]
    [InlineData("{\"to\":\"user:bob\",\"body\":1,\"id\":\"\"}")]
    [InlineData("{\"to\":\"user:bob\",\"body\":1,\"id\":\"0123456789012345678901234567890123456789012345678901234567890123X\"}")]
    [InlineData("{\"to\":\"user:bob\",\"body\":")]
    [InlineData("[]")]
    public async Task A_malformed_REST_send_is_400_bad_request(string body)
    {
        var reply = await host.Api.PostAsync("/api/messages", await host.Api.TokenAsync(SiloHostFixture.NewId("alice")), body);

        Protocol.AssertProblem(reply, 400, "bad_request");
    }

    [Fact]
    public async Task A_REST_send_to_an_unknown_group_is_404_and_to_a_forbidden_group_403()
    {
        var owner = SiloHostFixture.NewId("owner");
        var group = SiloHostFixture.NewId("g");
        await host.Api.PutAsync($"/api/groups/{group}", await host.Api.TokenAsync(owner, "teacher"), new { policy = "announce" });
        var student = await host.Api.TokenAsync(SiloHostFixture.NewId("student"));

        var unknown = await host.Api.PostAsync("/api/messages", student, new { to = $"group:{SiloHostFixture.NewId("nogroup")}", body = 1 });
        var forbidden = await host.Api.PostAsync("/api/messages", student, new { to = $"group:{group}", body = 1 });

        Protocol.AssertProblem(unknown, 404, "not_found");
        Protocol.AssertProblem(forbidden, 403, "forbidden");
    }

    /// <summary>A send request body whose UTF-8 JSON is exactly <paramref name="size"/> bytes.</summary>
    private static string BodyOfSize(string to, int size)
    {
        var empty = $"{{\"to\":\"{to}\",\"body\":\"\"}}";
        var text = $"{{\"to\":\"{to}\",\"body\":\"{new string('a', size - Encoding.UTF8.GetByteCount(empty))}\"}}";
        Assert.Equal(size, Encoding.UTF8.GetByteCount(text));
        return text;
    }

    /// <summary>Content without a Content-Length, so the server must count the bytes itself.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
