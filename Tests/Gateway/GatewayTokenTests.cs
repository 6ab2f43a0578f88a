using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Switchboard.Gateway.Diagnostics;
using Switchboard.Gateway.Edges;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Gateway;

/// <summary>
/// The gateway checks a socket's bearer token before proxying, with the silos' rules and settings: a missing or bad
/// token is answered 401 by the gateway and never reaches a silo; a valid one is forwarded unchanged.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(RestrictedHostCollection.Name)]
public sealed class GatewayTokenTests(RestrictedHostFixture host)
{
    private const string SiloMeter = "Switchboard.Silo";

    [Fact]
    public async Task A_valid_token_opens_a_socket_through_the_gateway_over_real_TLS_and_bad_ones_never_reach_the_silo()
    {
        await using var gateway = new GatewayFactory(host.BaseAddress);
        await Wait.UntilAsync(() => gateway.Destinations.Count == 1, "the gateway publishes the silo");
        using var siloRefusals = new MeterCounter(host.Factory.Services, SiloMeter, "switchboard.errors", ("code", "unauthorized"));
        using var siloSockets = new MeterCounter(host.Factory.Services, SiloMeter, "switchboard.sockets.opened");
        var alice = SiloHostFixture.NewId("gwtoken");

        foreach (var (what, token) in RefusedTokens(alice))
        {
            Assert.True(401 == await SocketClient.TryConnectStatusAsync(gateway.BaseAddress, token, certificateValidation: gateway.ValidateCertificate), what);
        }

        // Header and query, as the silo reads them: the same token opens a socket either way, and the silo sees it.
        await using var viaHeader = await gateway.ConnectAsync(TestTokens.Mint(alice));
        await using var viaQuery = await gateway.ConnectAsync(TestTokens.Mint(alice), useQuery: true);
        await viaHeader.PingAsync();
        await viaQuery.PingAsync();
        Assert.Equal(2, siloSockets.Total);

        // Had any refused token been forwarded, the silo would have answered (and counted) its own 401.
        Assert.Equal(0, siloRefusals.Total);
    }

    [Fact]
    public async Task The_gateways_401_is_the_silos_problem_details_with_code_unauthorized()
    {
        await using var gateway = new GatewayFactory(host.BaseAddress);
        using var viaGateway = gateway.Api();
        using var direct = new ApiClient(host.BaseAddress);

        var fromGateway = await viaGateway.GetAsync("/ws", "not-a-token");
        var fromSilo = await direct.GetAsync("/ws", "not-a-token");

        Assert.Equal(401, fromGateway.Status);
        Assert.Equal(401, fromSilo.Status);
        Assert.Equal("unauthorized", fromGateway.Body.GetProperty("code").GetString());
        Assert.Equal(Shape(fromSilo.Body), Shape(fromGateway.Body));
        Assert.Equal(fromSilo.Body.GetProperty("detail").GetString(), fromGateway.Body.GetProperty("detail").GetString());
    }

    /// <summary>Tokens the silo would refuse, each for a reason of its own.</summary>
    internal static IEnumerable<(string What, string? Token)> RefusedTokens(string user) =>
    [
        ("no token", null),
        ("not a JWT", "not-a-token"),
        ("signed with another key", TestTokens.Mint(user, signingKey: RandomNumberGenerator.GetHexString(64, lowercase: true))),
        ("expired", TestTokens.Mint(user, expires: DateTime.UtcNow.AddMinutes(-5))),
        ("for another audience", TestTokens.Mint(user, audience: "someone-else")),
        ("from another issuer", TestTokens.Mint(user, issuer: "someone-else")),
        ("alg none", TestTokens.Unsigned(user)),
        ("living longer than MaxTokenLifetime", TestTokens.Mint(user, expires: DateTime.UtcNow.AddDays(3), issuedAt: DateTime.UtcNow)),
    ];

    private static string Shape(JsonElement problem) => string.Join(",", problem.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
}

/// <summary>
/// The gateway's token check in front of a stand-in destination that counts what reaches it: refusals are the
/// gateway's own; keys published by an issuer rotate at the gateway as at the silos; no key means no start, unless
/// validation is turned off explicitly.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
public sealed class GatewayTokenCheckTests : IAsyncLifetime
{
    private StandInSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await StartStandInAsync();

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task Missing_forged_expired_and_wrong_audience_tokens_get_401_from_the_gateway_and_no_request_reaches_a_silo()
    {
        await using var gateway = await StartAsync(_silo, new() { ["Logging:LogLevel:Switchboard.Gateway.Edges.TokenGate"] = "Debug" });
        using var refused = new MeterCounter(gateway.Services, GatewayMetrics.MeterName, "switchboard.gateway.unauthorized");
        using var missing = new MeterCounter(gateway.Services, GatewayMetrics.MeterName, "switchboard.gateway.unauthorized", ("reason", TokenGate.Missing));
        var alice = SiloHostFixture.NewId("gwcheck");
        var tokens = GatewayTokenTests.RefusedTokens(alice).ToList();
        var valid = TestTokens.Mint(alice);

        foreach (var (what, token) in tokens)
        {
            Assert.True(401 == await UpgradeAsync(gateway, token), what);
            Assert.True(401 == await UpgradeAsync(gateway, token, useQuery: true), what + ", in the query");
        }

        // HTTP/2 extended CONNECT takes the same route and the same check.
        Assert.Equal(401, await UpgradeAsync(gateway, "not-a-token", http2: true));

        // The silo's rule: an Authorization header, even of another scheme, wins over the query.
        Assert.Equal(401, await UpgradeAsync(gateway, valid, useQuery: true, authorization: "Basic YWxpY2U6eA=="));
        Assert.Equal(0, _silo.Requests);
        Assert.Equal(2 * tokens.Count + 2, refused.Total);
        Assert.Equal(3, missing.Total); // no token, header or query, and a Basic header: no bearer token at all

        // The same path with a valid token is forwarded: the count above could have moved.
        Assert.Equal(StandInSilo.Status, await UpgradeAsync(gateway, valid));
        Assert.Equal(StandInSilo.Status, await UpgradeAsync(gateway, valid, useQuery: true));
        Assert.Equal(StandInSilo.Status, await UpgradeAsync(gateway, valid, http2: true));
        Assert.Equal(3, _silo.Requests);

        Assert.Contains(gateway.Logs.Lines, line => line.Contains("[6010]", StringComparison.Ordinal) && line.Contains("SecurityToken", StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.Logs.Lines, line => tokens.Any(t => t.Token is { Length: > 0 } token && line.Contains(token, StringComparison.Ordinal)) || line.Contains(valid, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_key_published_later_by_the_issuer_validates_at_the_gateway_and_a_key_withdrawn_stops_validating()
    {
        using var first = IssuerKey.Rsa("rotate-1");
        using var second = IssuerKey.EllipticCurve("rotate-2");
        await using var issuer = await JwksServer.StartAsync(first);
        await using var gateway = await StartAsync(_silo, new()
        {
            ["Switchboard:Auth:JwksUrl"] = issuer.JwksUrl,
            ["Switchboard:Auth:KeyRefreshMinimumInterval"] = "00:00:01",
        });
        var alice = SiloHostFixture.NewId("gwrotate");

        Assert.Equal(StandInSilo.Status, await UpgradeAsync(gateway, first.Mint(alice)));
        Assert.Equal(401, await UpgradeAsync(gateway, second.Mint(alice)));

        // Rotation: the new key is published and the old one withdrawn. The first token naming the new kid fetches the
        // keys again (once the minimum interval since the last on-demand fetch has passed, hence the retries).
        issuer.Publish(second);
        await Wait.UntilAsync(async () => await UpgradeAsync(gateway, second.Mint(alice)) == StandInSilo.Status, "a token signed with the newly published key passes the gateway");
        Assert.Equal(401, await UpgradeAsync(gateway, first.Mint(alice)));
        Assert.Equal(2, _silo.Requests);
    }

    [Fact]
    public async Task A_gateway_without_a_key_refuses_to_start_and_names_the_settings()
    {
        var gateway = new GatewayFactory(_silo.BaseAddress, new Dictionary<string, string?> { ["Switchboard:Auth:SigningKey"] = "" });

        var refused = Record.Exception(gateway.StartServer);
        await DisposeQuietlyAsync(gateway);

        Assert.NotNull(refused);
        Assert.Contains("Switchboard:Auth:SigningKey, Authority, JwksUrl or PublicKeyFiles is required", refused.ToString(), StringComparison.Ordinal);
        Assert.Contains("Switchboard:Gateway:ValidateTokens=false", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_refuses_to_start_with_a_key_the_silos_would_refuse()
    {
        var gateway = new GatewayFactory(_silo.BaseAddress, new Dictionary<string, string?> { ["Switchboard:Auth:SigningKey"] = new string('0', 64) });

        var refused = Record.Exception(gateway.StartServer);
        await DisposeQuietlyAsync(gateway);

        Assert.NotNull(refused);
        Assert.Contains("Switchboard:Auth:SigningKey does not look random", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_validation_turned_off_explicitly_the_gateway_starts_without_a_key_warns_and_forwards_every_upgrade()
    {
        await using var gateway = await StartAsync(_silo, new() { ["Switchboard:Auth:SigningKey"] = "", ["Switchboard:Gateway:ValidateTokens"] = "false" });
        using var refused = new MeterCounter(gateway.Services, GatewayMetrics.MeterName, "switchboard.gateway.unauthorized");

        Assert.Equal(StandInSilo.Status, await UpgradeAsync(gateway, null));
        Assert.Equal(StandInSilo.Status, await UpgradeAsync(gateway, "not-a-token"));
        Assert.Equal(2, _silo.Requests);
        Assert.Equal(0, refused.Total);
        Assert.Contains(gateway.Logs.Lines, line => line.StartsWith("Warning", StringComparison.Ordinal) && line.Contains("[6011] Token validation is off", StringComparison.Ordinal));
    }

    private static Task<StandInSilo> StartStandInAsync() => StandInSilo.StartAsync();

    private static async Task<GatewayFactory> StartAsync(StandInSilo silo, Dictionary<string, string?> settings)
    {
        var gateway = new GatewayFactory(silo.BaseAddress, settings);
        await Wait.UntilAsync(() => gateway.Destinations.Count == 1, "the gateway publishes the stand-in silo");
        return gateway;
    }

    private static async Task DisposeQuietlyAsync(GatewayFactory gateway)
    {
        try
        {
            await gateway.DisposeAsync();
        }
        catch (Exception)
        {
            // A host that never started may fail to stop as well; the start is what the test asked about.
        }
    }

    /// <summary>The status of a WebSocket upgrade through the gateway's TLS (HTTP/1.1, or HTTP/2 extended CONNECT): 101 or 200, or the refusal's.</summary>
    private static async Task<int> UpgradeAsync(GatewayFactory gateway, string? token, bool useQuery = false, string? authorization = null, bool http2 = false)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var invoker = http2
            ? new HttpMessageInvoker(new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = gateway.ValidateCertificate } })
            : null;
        if (http2)
        {
            socket.Options.HttpVersion = HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        else
        {
            socket.Options.RemoteCertificateValidationCallback = gateway.ValidateCertificate;
        }

        var uri = new UriBuilder(gateway.BaseAddress) { Scheme = "wss", Path = "/ws" };
        if (token is not null && useQuery)
        {
            uri.Query = "access_token=" + Uri.EscapeDataString(token);
        }
        else if (token is not null)
        {
            authorization ??= "Bearer " + token;
        }

        if (authorization is not null)
        {
            socket.Options.SetRequestHeader("Authorization", authorization);
        }

        try
        {
            await socket.ConnectAsync(uri.Uri, invoker, CancellationToken.None);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // A refused upgrade: its status is what the test reads.
        }

        return (int)socket.HttpStatusCode;
    }
}
