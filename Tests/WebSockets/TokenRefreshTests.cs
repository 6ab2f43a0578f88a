using System.Net.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md "Token refresh": the <c>auth</c> frame replaces a socket's token without reconnecting.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class TokenRefreshTests(SiloHostFixture host)
{
    [Fact]
    public async Task A_refreshed_token_keeps_the_socket_open_past_the_old_expiry()
    {
        var alice = SiloHostFixture.NewId("alice");
        var expires = DateTime.UtcNow.AddSeconds(3);
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, host.Tokens.Mint(alice, expires: expires));

        var reply = await socket.RequestAsync(new { type = "auth", id = "a1", token = host.Tokens.Mint(alice, expires: DateTime.UtcNow.AddHours(1)) });

        Assert.Equal("ack", reply.Type());
        Assert.Equal("a1", reply.Str("id"));

        // The expiry check runs every second: two past the old expiry, the socket would have closed with 4001.
        await Wait.UntilAsync(() => DateTime.UtcNow > expires.AddSeconds(2), "the old token's expiry to pass");
        await socket.PingAsync();
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task A_token_for_another_user_is_forbidden_and_the_old_token_still_expires_with_4001()
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, host.Tokens.Mint(alice, expires: DateTime.UtcNow.AddSeconds(3)));

        var reply = await socket.RequestAsync(new { type = "auth", id = "a2", token = host.Tokens.Mint(SiloHostFixture.NewId("mallory"), "admin") });

        Protocol.AssertError(reply, "a2", "forbidden");
        Assert.Equal((WebSocketCloseStatus)4001, await socket.WaitForCloseAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData("bad-signature")]
    [InlineData("expired")]
    [InlineData("garbage")]
    public async Task An_invalid_token_is_unauthorized_and_the_socket_keeps_its_old_one(string kind)
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var socket = await host.ConnectAsync(alice);
        var token = kind switch
        {
            "bad-signature" => host.Tokens.MintWithAnotherKey(alice),
            "expired" => host.Tokens.Mint(alice, expires: DateTime.UtcNow.AddMinutes(-5)),
            _ => "not.a.jwt",
        };

        var reply = await socket.RequestAsync(new { type = "auth", id = "a3", token });

        Protocol.AssertError(reply, "a3", "unauthorized");
        await socket.PingAsync();
        Assert.Equal("ack", (await socket.SendMessageAsync($"user:{SiloHostFixture.NewId("bob")}", new { text = "still me" })).Type());
    }

    [Fact]
    public async Task An_auth_frame_without_a_token_is_a_bad_request()
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        Protocol.AssertError(await socket.RequestAsync(new { type = "auth", id = "a4" }), "a4", "bad_request");
        Protocol.AssertError(await socket.RequestAsync(new { type = "auth", id = "a5", token = 42 }), "a5", "bad_request");
    }

    [Fact]
    public async Task A_refreshed_token_brings_its_role_to_the_open_socket()
    {
        var teacher = SiloHostFixture.NewId("teacher");
        var alice = SiloHostFixture.NewId("alice");
        var group = SiloHostFixture.NewId("news");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", await host.Api.TokenAsync(teacher, "teacher"), new { policy = "announce" })).Status);
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, host.Tokens.Mint(alice, "student"));
        Protocol.AssertError(await socket.SendMessageAsync($"group:{group}", new { text = "as a student" }, id: "s1"), "s1", "forbidden");

        Assert.Equal("ack", (await socket.RequestAsync(new { type = "auth", id = "a6", token = host.Tokens.Mint(alice, "admin") })).Type());

        var post = await socket.SendMessageAsync($"group:{group}", new { text = "as an admin" }, id: "s2");
        Assert.Equal("ack", post.Type());
        Assert.Equal(Protocol.Group(group), post.Str("conversation"));
    }
}
