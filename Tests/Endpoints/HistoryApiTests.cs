using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Endpoints;

/// <summary>docs/protocol.md <c>GET /api/conversations/{conversation}/messages</c>.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class HistoryApiTests(SiloHostFixture host)
{
    [Fact]
    public async Task History_is_oldest_first_with_message_frames_as_on_the_socket()
    {
        var (alice, bob, token) = await ConversationWithAsync(5);
        await using var b = await host.ConnectAsync(bob);
        await b.RequestAsync(new { type = "resume", id = "r-1", since = new Dictionary<string, long> { [Protocol.Dm(alice, bob)] = 0 } });

        var reply = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", token);

        Assert.Equal(200, reply.Status);
        var history = reply.Body.EnumerateArray().ToList();
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Protocol.Seqs(history));
        var socket = b.Messages(Protocol.Dm(alice, bob));
        for (var i = 0; i < history.Count; i++)
        {
            Assert.Equal("message", history[i].Type());
            Assert.True(JsonElement.DeepEquals(socket[i], history[i]), $"REST {history[i]} differs from socket {socket[i]}");
        }
    }

    [Fact]
    public async Task History_after_and_limit_select_a_page()
    {
        var (alice, bob, token) = await ConversationWithAsync(6);
        var path = $"/api/conversations/{Protocol.Dm(alice, bob)}/messages";

        var page = await host.Api.GetAsync($"{path}?after=2&limit=3", token);
        var tail = await host.Api.GetAsync($"{path}?after=5", token);
        var beyond = await host.Api.GetAsync($"{path}?after=6", token);
        var first = await host.Api.GetAsync($"{path}?limit=1", token);

        Assert.Equal([3L, 4L, 5L], Protocol.Seqs(page.Body.EnumerateArray()));
        Assert.Equal([6L], Protocol.Seqs(tail.Body.EnumerateArray()));
        Assert.Equal(0, beyond.Body.GetArrayLength());
        Assert.Equal([1L], Protocol.Seqs(first.Body.EnumerateArray()));
    }

    [Fact]
    public async Task History_returns_at_most_100_by_default_and_at_most_limit_up_to_1000()
    {
        var (alice, bob, token) = await ConversationWithAsync(101);
        var path = $"/api/conversations/{Protocol.Dm(alice, bob)}/messages";

        var byDefault = await host.Api.GetAsync(path, token);
        var atMost = await host.Api.GetAsync($"{path}?limit=1000", token);

        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), Protocol.Seqs(byDefault.Body.EnumerateArray()));
        Assert.Equal(101, atMost.Body.GetArrayLength());
    }

    [Theory]
    [InlineData("?limit=1001")]
    [InlineData("?limit=0")]
    [InlineData("?after=-1")]
    [InlineData("?limit=many")]
    public async Task History_with_a_bad_after_or_limit_is_400_bad_request(string query)
    {
        var (alice, bob, token) = await ConversationWithAsync(1);

        var reply = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages{query}", token);

        Protocol.AssertProblem(reply, 400, "bad_request");
    }

    [Fact]
    public async Task History_of_a_direct_conversation_is_forbidden_to_non_participants()
    {
        var (alice, bob, _) = await ConversationWithAsync(1);
        var path = $"/api/conversations/{Protocol.Dm(alice, bob)}/messages";

        var asCarol = await host.Api.GetAsync(path, await host.Api.TokenAsync(SiloHostFixture.NewId("carol")));
        var asBob = await host.Api.GetAsync(path, await host.Api.TokenAsync(bob));

        Protocol.AssertProblem(asCarol, 403, "forbidden");
        Assert.Equal(1, asBob.Body.GetArrayLength());
    }

    [Fact]
    public async Task History_of_a_group_is_for_anyone_when_open_and_for_members_otherwise()
    {
        var owner = SiloHostFixture.NewId("owner");
        var ownerToken = await host.Api.TokenAsync(owner, "teacher");
        var outsider = await host.Api.TokenAsync(SiloHostFixture.NewId("outsider"));
        var member = SiloHostFixture.NewId("member");
        var memberToken = await host.Api.TokenAsync(member);
        var results = new Dictionary<string, (int Outsider, int Member)>();
        foreach (var policy in new[] { "open", "members", "announce" })
        {
            var group = SiloHostFixture.NewId(policy);
            await host.Api.PutAsync($"/api/groups/{group}", ownerToken, new { policy });
            await host.Api.PutAsync($"/api/groups/{group}/members/{member}", ownerToken, new { role = "member" });
            await host.Api.PostAsync("/api/messages", ownerToken, new { to = $"group:{group}", body = policy });
            var path = $"/api/conversations/{Protocol.Group(group)}/messages";
            results[policy] = ((await host.Api.GetAsync(path, outsider)).Status, (await host.Api.GetAsync(path, memberToken)).Status);
        }

        Assert.Equal((200, 200), results["open"]);
        Assert.Equal((403, 200), results["members"]);
        Assert.Equal((403, 200), results["announce"]);
    }

    [Fact]
    public async Task History_of_an_unknown_group_is_404_and_of_a_malformed_conversation_id_400()
    {
        var token = await host.Api.TokenAsync(SiloHostFixture.NewId("alice"));

        var unknown = await host.Api.GetAsync($"/api/conversations/group:{SiloHostFixture.NewId("nogroup")}/messages", token);
        var malformed = await host.Api.GetAsync("/api/conversations/nonsense/messages", token);
        var unordered = await host.Api.GetAsync("/api/conversations/dm:bob:alice/messages", token);

        Protocol.AssertProblem(unknown, 404, "not_found");
        Protocol.AssertProblem(malformed, 400, "bad_request");
        Protocol.AssertProblem(unordered, 400, "bad_request");
    }

    private async Task<(string Alice, string Bob, string AliceToken)> ConversationWithAsync(int count)
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var token = await host.Api.TokenAsync(alice);
        for (var i = 1; i <= count; i++)
        {
            var reply = await host.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = new { n = i }, id = $"h-{i}" });
            Assert.Equal(200, reply.Status);
        }

        return (alice, bob, token);
    }
}
