using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md "Connecting": tokens at the upgrade, expiry while connected, the welcome frame.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class ConnectionTests(SiloHostFixture host)
{
    [Fact]
    public async Task A_token_in_the_Authorization_header_opens_a_socket()
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, await host.Api.TokenAsync(alice));

        Assert.Equal(alice, socket.Welcome.Str("user"));
        await socket.PingAsync();
    }

    [Fact]
    public async Task A_token_in_the_access_token_query_opens_a_socket()
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, await host.Api.TokenAsync(alice), useQuery: true);

        Assert.Equal(alice, socket.Welcome.Str("user"));
        await socket.PingAsync();
    }

    [Fact]
    public async Task An_externally_minted_token_with_the_configured_key_issuer_and_audience_opens_a_socket()
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, host.Tokens.Mint(alice));

        Assert.Equal(alice, socket.Welcome.Str("user"));
    }

    public static TheoryData<string> BadTokens() => new()
    {
        "missing",
        "garbage",
        "bad signature",
        "wrong issuer",
        "wrong audience",
        "expired",
        "no exp",
        "sub not a user id",
        "sub of 65 characters",
        "unsigned (alg none)",
        "valid for a year",
        "no iat and valid for 2 days",
        "iat in the future",
        "role is an array",
        "role is an array naming admin",
        "role is a number",
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_or_missing_token_is_refused_at_the_upgrade_with_401(string kind)
    {
        var token = BadToken(kind);

        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(host.BaseAddress, token));
        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(host.BaseAddress, token, useQuery: true));
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_or_missing_token_gets_401_problem_details_on_REST(string kind)
    {
        var reply = await host.Api.GetAsync($"/api/users/{SiloHostFixture.NewId("alice")}/presence", BadToken(kind));

        Protocol.AssertProblem(reply, 401, "unauthorized");
    }

    [Fact]
    public async Task A_user_id_of_64_characters_connects()
    {
        var user = SiloHostFixture.NewId("u") + new string('u', 64);
        user = user[..64];
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, host.Tokens.Mint(user));

        Assert.Equal(user, socket.Welcome.Str("user"));
    }

    [Fact]
    public async Task A_token_valid_for_a_year_is_refused_at_the_upgrade_and_on_REST()
    {
        var alice = SiloHostFixture.NewId("alice");
        var token = host.Tokens.Mint(alice, expires: DateTime.UtcNow.AddDays(365));

        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(host.BaseAddress, token));
        Protocol.AssertProblem(await host.Api.GetAsync($"/api/users/{alice}/presence", token), 401, "unauthorized");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_token_that_lives_just_under_the_maximum_of_24_hours_opens_a_socket_that_stays_open(bool withIssuedAt)
    {
        var alice = SiloHostFixture.NewId("alice");
        // With iat, from the issuer when the cluster has one (its lifetime parameter); without, signed with its key.
        var token = withIssuedAt
            ? await host.Tokens.ValidForAsync(alice, TimeSpan.FromHours(23))
            : host.Tokens.Mint(alice, issuedAt: DateTime.UtcNow, expires: DateTime.UtcNow.AddHours(23), withIssuedAt: false);

        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, token);

        await socket.PingAsync();
        Assert.Equal(WebSocketState.Open, socket.State);
        Assert.Equal(200, (await host.Api.GetAsync($"/api/users/{alice}/presence", token)).Status);
    }

    [Fact]
    public async Task A_token_that_expires_while_connected_closes_the_socket_with_4001()
    {
        var alice = SiloHostFixture.NewId("alice");
        var token = await host.Tokens.ValidForAsync(alice, TimeSpan.FromSeconds(2));
        await using var socket = await SocketClient.ConnectAsync(host.BaseAddress, token);
        await socket.PingAsync();

        var status = await socket.WaitForCloseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((WebSocketCloseStatus)4001, status);
    }

    [Fact]
    public async Task The_welcome_frame_comes_first_and_names_user_connection_and_node()
    {
        var alice = SiloHostFixture.NewId("alice");
        await using var first = await host.ConnectAsync(alice);
        await using var second = await host.ConnectAsync(alice);

        Assert.Equal("welcome", first.Frames.First().Type());
        Assert.Equal(alice, first.Welcome.Str("user"));
        Assert.False(string.IsNullOrEmpty(first.Welcome.Str("connection")));
        Assert.False(string.IsNullOrEmpty(first.Welcome.Str("node")));
        Assert.NotEqual(first.Welcome.Str("connection"), second.Welcome.Str("connection"));
        Assert.Equal("1.1", first.Welcome.Str("protocol"));

        // One log, one epoch, on every node (it changes only when the log is restored from a backup).
        Assert.Matches("^[0-9a-f]{32}$", first.Welcome.Str("epoch"));
        Assert.Equal(first.Welcome.Str("epoch"), second.Welcome.Str("epoch"));
        if (host.Factory is { } local)
        {
            Assert.Equal(first.Welcome.Str("node"), second.Welcome.Str("node"));
            Assert.Equal(local.Services.GetRequiredService<ILocalSiloDetails>().Name, first.Welcome.Str("node"));
        }
    }

    [Fact]
    public async Task A_user_who_never_connected_exists_and_is_offline_with_0_connections()
    {
        var alice = SiloHostFixture.NewId("alice");
        var nobody = SiloHostFixture.NewId("nobody");
        var token = await host.Api.TokenAsync(alice);

        var presence = await host.Api.GetAsync($"/api/users/{nobody}/presence", token);

        Assert.Equal(200, presence.Status);
        Assert.Equal(nobody, presence.Body.Str("user"));
        Assert.False(presence.Body.GetProperty("online").GetBoolean());
        Assert.Equal(0, presence.Body.GetProperty("connections").GetInt32());
    }

    /// <summary>Signed with the key the host trusts unless the signature is the point: refused for the reason named.</summary>
    private string? BadToken(string kind)
    {
        var user = SiloHostFixture.NewId("mallory");
        return kind switch
        {
            "missing" => null,
            "garbage" => "not-a-jwt",
            "bad signature" => host.Tokens.MintWithAnotherKey(user),
            "wrong issuer" => host.Tokens.Mint(user, issuer: "someone-else"),
            "wrong audience" => host.Tokens.Mint(user, audience: "someone-else"),
            "expired" => host.Tokens.Mint(user, expires: DateTime.UtcNow.AddMinutes(-5)),
            "no exp" => host.Tokens.Mint(user, withExpiry: false),
            "sub not a user id" => host.Tokens.Mint("not a valid/user id"),
            "sub of 65 characters" => host.Tokens.Mint(new string('u', 65)),
            "unsigned (alg none)" => TestTokens.Unsigned(user, host.Tokens.Issuer),
            "valid for a year" => host.Tokens.Mint(user, expires: DateTime.UtcNow.AddDays(365)),
            "no iat and valid for 2 days" => host.Tokens.Mint(user, expires: DateTime.UtcNow.AddDays(2), withIssuedAt: false),
            "iat in the future" => host.Tokens.Mint(user, issuedAt: DateTime.UtcNow.AddDays(1), expires: DateTime.UtcNow.AddDays(1).AddHours(1)),
            "role is an array" => host.Tokens.Mint(user, role: new[] { "student" }),
            "role is an array naming admin" => host.Tokens.Mint(user, role: new[] { "student", "admin" }),
            "role is a number" => host.Tokens.Mint(user, role: 7),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }
}
