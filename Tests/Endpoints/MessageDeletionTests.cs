using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Endpoints;

/// <summary>
/// docs/protocol.md "Delete a message" (1.1): who may, what history and <c>resume</c> return afterwards, and the live
/// <c>deleted</c> frame on the conversation's open sockets.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class MessageDeletionTests(SiloHostFixture host)
{
    [Fact]
    public async Task A_sender_deletes_a_group_message_which_keeps_its_seq_and_reads_back_as_deleted()
    {
        var (group, owner, ownerToken) = await CreateGroupAsync("members");
        var member = SiloHostFixture.NewId("member");
        await AddMemberAsync(group, ownerToken, member);
        var memberToken = await host.Api.TokenAsync(member);
        await using var o = await host.ConnectAsync(owner, "teacher");
        await using var m = await host.ConnectAsync(member);
        await SendAsync(memberToken, Protocol.Group(group), "oops");
        await SendAsync(ownerToken, Protocol.Group(group), "after");

        var deleted = await host.Api.DeleteAsync(Path(Protocol.Group(group), 1), memberToken);
        var again = await host.Api.DeleteAsync(Path(Protocol.Group(group), 1), memberToken);

        Assert.Equal(204, deleted.Status);
        Assert.Equal(204, again.Status);
        foreach (var socket in new[] { o, m })
        {
            var frame = await socket.WaitForAsync(f => f.Type() == "deleted", "the deleted frame");
            Assert.Equal(Protocol.Group(group), frame.Str("conversation"));
            Assert.Equal(1, frame.GetProperty("seq").GetInt64());
            Assert.Equal(member, frame.Str("by"));
        }

        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Group(group)}/messages", ownerToken);
        Assert.Equal(2, history.Body.GetArrayLength());
        var first = history.Body[0];
        Assert.Equal("message", first.Type());
        Assert.Equal(1, first.GetProperty("seq").GetInt64());
        Assert.Equal(member, first.Str("from"));
        Assert.Equal(JsonValueKind.Null, first.GetProperty("body").ValueKind);
        Assert.True(first.GetProperty("deleted").GetBoolean());
        Assert.Equal("after", history.Body[1].Str("body"));
        Assert.False(history.Body[1].TryGetProperty("deleted", out _));

        // resume replays the same shape.
        await using var late = await host.ConnectAsync(owner, "teacher");
        var ack = await late.RequestAsync(new { type = "resume", id = "r-1", since = new Dictionary<string, long> { [Protocol.Group(group)] = 0 } });
        Assert.Equal("ack", ack.Type());
        var replayed = late.Messages(Protocol.Group(group));
        Assert.Equal(JsonValueKind.Null, replayed[0].GetProperty("body").ValueKind);
        Assert.True(replayed[0].GetProperty("deleted").GetBoolean());
        Assert.Equal("after", replayed[1].Str("body"));
    }

    [Fact]
    public async Task Owners_and_admins_delete_any_group_message_and_other_members_none()
    {
        var (group, _, ownerToken) = await CreateGroupAsync("open");
        var alice = await host.Api.TokenAsync(SiloHostFixture.NewId("alice"));
        var bob = await host.Api.TokenAsync(SiloHostFixture.NewId("bob"));
        await SendAsync(alice, Protocol.Group(group), "a1");
        await SendAsync(alice, Protocol.Group(group), "a2");

        Protocol.AssertProblem(await host.Api.DeleteAsync(Path(Protocol.Group(group), 1), bob), 403, "forbidden");
        Assert.Equal(204, (await host.Api.DeleteAsync(Path(Protocol.Group(group), 1), ownerToken)).Status);
        Assert.Equal(204, (await host.Api.DeleteAsync(Path(Protocol.Group(group), 2), await host.Api.TokenAsync(SiloHostFixture.NewId("admin"), "admin"))).Status);
        Protocol.AssertProblem(await host.Api.DeleteAsync(Path(Protocol.Group(group), 3), ownerToken), 404, "not_found");
        Protocol.AssertProblem(await host.Api.DeleteAsync(Path(Protocol.Group(group), 0), ownerToken), 400, "bad_request");
        Protocol.AssertProblem(await host.Api.DeleteAsync(Path(Protocol.Group(group), "x"), ownerToken), 400, "bad_request");
        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Group(group)}/messages", ownerToken);
        Assert.All(history.Body.EnumerateArray(), message => Assert.True(message.GetProperty("deleted").GetBoolean()));
    }

    [Fact]
    public async Task In_a_direct_conversation_only_the_sender_deletes_and_both_users_sockets_are_told()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var aliceToken = await host.Api.TokenAsync(alice);
        var bobToken = await host.Api.TokenAsync(bob);
        var conversation = Protocol.Dm(alice, bob);
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);
        await SendAsync(aliceToken, $"user:{bob}", "secret");
        await b.WaitForMessageAsync(conversation, 1);

        Protocol.AssertProblem(await host.Api.DeleteAsync(Path(conversation, 1), bobToken), 403, "forbidden");
        Protocol.AssertProblem(await host.Api.DeleteAsync(Path(conversation, 1), await host.Api.TokenAsync(SiloHostFixture.NewId("eve"), "admin")), 403, "forbidden");
        Protocol.AssertProblem(await host.Api.DeleteAsync(Path(conversation, 2), aliceToken), 404, "not_found");
        Assert.Equal(204, (await host.Api.DeleteAsync(Path(conversation, 1), aliceToken)).Status);

        foreach (var socket in new[] { a, b })
        {
            var frame = await socket.WaitForAsync(f => f.Type() == "deleted", "the deleted frame");
            Assert.Equal(conversation, frame.Str("conversation"));
            Assert.Equal(alice, frame.Str("by"));
        }

        var history = await host.Api.GetAsync($"/api/conversations/{conversation}/messages", bobToken);
        var only = Assert.Single(history.Body.EnumerateArray());
        Assert.Equal(JsonValueKind.Null, only.GetProperty("body").ValueKind);
        Assert.True(only.GetProperty("deleted").GetBoolean());
    }

    private static string Path(string conversation, object seq) => $"/api/conversations/{conversation}/messages/{seq}";

    private async Task<(string Group, string Owner, string OwnerToken)> CreateGroupAsync(string policy)
    {
        var group = SiloHostFixture.NewId("g");
        var owner = SiloHostFixture.NewId("owner");
        var token = await host.Api.TokenAsync(owner, "teacher");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", token, new { policy })).Status);
        return (group, owner, token);
    }

    private async Task AddMemberAsync(string group, string ownerToken, string user) =>
        Assert.Equal(200, (await host.Api.PutAsync($"/api/groups/{group}/members/{user}", ownerToken, new { role = "member" })).Status);

    private async Task SendAsync(string token, string to, string body) =>
        Assert.Equal(200, (await host.Api.PostAsync("/api/messages", token, new { to, body })).Status);
}
