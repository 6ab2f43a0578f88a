using System.Net.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Endpoints;

/// <summary>
/// docs/protocol.md "Token refresh and disconnects": an administrator's <c>DELETE /api/users/{id}/connections</c>
/// closes the user's sockets with 4003 and refuses the user's tokens issued before it, on every path.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class DisconnectTests(SiloHostFixture host)
{
    [Fact]
    public async Task An_admin_disconnect_closes_every_socket_of_the_user_with_4003_and_no_one_elses()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var token = host.Tokens.Mint(alice);
        await using var laptop = await SocketClient.ConnectAsync(host.BaseAddress, token);
        await using var phone = await SocketClient.ConnectAsync(host.BaseAddress, token);
        await using var other = await SocketClient.ConnectAsync(host.BaseAddress, host.Tokens.Mint(bob));

        var (status, body) = await host.Api.DeleteAsync($"/api/users/{alice}/connections", await AdminTokenAsync());

        Assert.Equal(200, status);
        Assert.Equal(alice, body.Str("user"));
        Assert.Equal(2, body.GetProperty("closed").GetInt32());
        Assert.Equal(0, body.GetProperty("unconfirmed").GetInt32());
        Assert.Equal((WebSocketCloseStatus)4003, await laptop.WaitForCloseAsync());
        Assert.Equal((WebSocketCloseStatus)4003, await phone.WaitForCloseAsync());
        await other.PingAsync();
    }

    [Fact]
    public async Task Tokens_issued_before_the_disconnect_are_refused_everywhere_and_later_ones_work()
    {
        var alice = SiloHostFixture.NewId("alice");
        var old = host.Tokens.Mint(alice);
        var (_, body) = await host.Api.DeleteAsync($"/api/users/{alice}/connections", await AdminTokenAsync());
        var before = body.GetProperty("revokedBefore").GetDateTimeOffset();

        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(host.BaseAddress, old));
        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(host.BaseAddress, old, useQuery: true));
        var rest = await host.Api.GetAsync($"/api/users/{alice}/conversations", old);
        Protocol.AssertProblem(rest, 401, "unauthorized");
        Assert.Contains("revoked", rest.Body.Str("detail"), StringComparison.OrdinalIgnoreCase);

        // A token issued in the same second as the disconnect is refused too (iat counts whole seconds).
        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(host.BaseAddress, host.Tokens.Mint(alice, issuedAt: before.UtcDateTime.AddSeconds(-1))));

        var fresh = host.Tokens.Mint(alice, issuedAt: before.UtcDateTime);
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, fresh);
        await socket.PingAsync();
        Assert.Equal(200, (await host.Api.GetAsync($"/api/users/{alice}/conversations", fresh)).Status);
    }

    [Fact]
    public async Task A_revoked_token_cannot_be_put_back_on_an_open_socket_with_auth()
    {
        var alice = SiloHostFixture.NewId("alice");
        var old = host.Tokens.Mint(alice);
        var (_, body) = await host.Api.DeleteAsync($"/api/users/{alice}/connections", await AdminTokenAsync());
        var before = body.GetProperty("revokedBefore").GetDateTimeOffset();
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, host.Tokens.Mint(alice, issuedAt: before.UtcDateTime));

        var reply = await socket.RequestAsync(new { type = "auth", id = "a1", token = old });

        Protocol.AssertError(reply, "a1", "unauthorized");
        await socket.PingAsync();
    }

    [Fact]
    public async Task A_socket_whose_token_has_no_iat_is_closed_and_such_tokens_stay_refused()
    {
        var alice = SiloHostFixture.NewId("alice");
        var undated = host.Tokens.Mint(alice, withIssuedAt: false);
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, undated);

        Assert.Equal(200, (await host.Api.DeleteAsync($"/api/users/{alice}/connections", await AdminTokenAsync())).Status);

        Assert.Equal((WebSocketCloseStatus)4003, await socket.WaitForCloseAsync());
        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(host.BaseAddress, host.Tokens.Mint(alice, withIssuedAt: false)));
    }

    [Theory]
    [InlineData("student")]
    [InlineData("teacher")]
    public async Task Only_an_admin_may_disconnect_a_user(string role)
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var socket = await host.ConnectAsync(alice);
        var caller = SiloHostFixture.NewId(role);

        Protocol.AssertProblem(await host.Api.DeleteAsync($"/api/users/{alice}/connections", await host.Api.TokenAsync(caller, role)), 403, "forbidden");
        Protocol.AssertProblem(await host.Api.DeleteAsync($"/api/users/{alice}/connections", await host.Api.TokenAsync(alice, role)), 403, "forbidden");
        await socket.PingAsync();
    }

    [Fact]
    public async Task A_bad_user_id_is_a_bad_request()
    {
        Protocol.AssertProblem(await host.Api.DeleteAsync("/api/users/bad%20id/connections", await AdminTokenAsync()), 400, "bad_request");
    }

    private Task<string> AdminTokenAsync() => host.Api.TokenAsync(SiloHostFixture.NewId("ops"), "admin");
}
