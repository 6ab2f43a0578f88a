using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Switchboard.Issuer;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Issuer;

/// <summary>The development token issuer's address rule, checked without starting anything.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class IssuerAddressTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5990")]
    [InlineData("http://127.0.0.2:5990")]
    [InlineData("http://[::1]:5990")]
    [InlineData("http://localhost:5990")]
    [InlineData("https://LOCALHOST:5990")]
    public void Loopback_addresses_are_accepted(string url) => Assert.Null(LoopbackAddress.Problem(url));

    [Theory]
    [InlineData("http://0.0.0.0:5990")]
    [InlineData("http://[::]:5990")]
    [InlineData("http://10.0.1.5:5990")]
    [InlineData("http://login.example.com")]
    [InlineData("http://localhost.example.com:5990")]
    [InlineData("ftp://127.0.0.1:5990")]
    [InlineData("127.0.0.1:5990")]
    public void Any_other_address_is_refused(string url) => Assert.NotNull(LoopbackAddress.Problem(url));

    [Fact]
    public void A_non_loopback_Url_stops_the_issuer_before_it_binds_anything()
    {
        var refused = Assert.Throws<OptionsValidationException>(() => IssuerServer.Build(("Switchboard:Issuer:Url", "http://0.0.0.0:0")));

        Assert.Contains("Switchboard:Issuer:Url", refused.Message, StringComparison.Ordinal);
        Assert.Contains("loopback", refused.Message, StringComparison.Ordinal);
    }
}

/// <summary>The development token issuer on real Kestrel: loopback only, its JWKS and discovery document, the tokens it issues.</summary>
[Trait(Category.Name, Category.Cluster)]
public sealed class IssuerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("switchboard-issuer-key-").FullName;

    [Fact]
    public async Task An_issuer_that_ends_up_listening_beyond_loopback_stops_and_says_why()
    {
        // Kestrel endpoints in configuration override the Url option: the check after start catches them.
        await using var app = IssuerServer.Build(("Kestrel:Endpoints:Outside:Url", "http://0.0.0.0:0"));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(app.StartOnLoopbackOnlyAsync);

        Assert.Contains("0.0.0.0", refused.Message, StringComparison.Ordinal);
        Assert.Contains("loopback", refused.Message, StringComparison.Ordinal);
        // Stopped again: the port it was given no longer answers.
        var port = int.Parse(System.Text.RegularExpressions.Regex.Match(refused.Message, @"0\.0\.0\.0:(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        using var client = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => client.ConnectAsync(System.Net.IPAddress.Loopback, port));
    }

    [Fact]
    public async Task The_discovery_document_names_the_issuer_its_jwks_and_its_token_endpoint()
    {
        await using var issuer = await IssuerServer.StartAsync();

        var discovery = await issuer.Http.GetFromJsonAsync<JsonElement>(".well-known/openid-configuration");

        Assert.StartsWith("http://127.0.0.1:", issuer.Url, StringComparison.Ordinal);
        Assert.Equal(issuer.Url, discovery.GetProperty("issuer").GetString());
        Assert.Equal(issuer.Url + "/.well-known/jwks.json", discovery.GetProperty("jwks_uri").GetString());
        Assert.Equal(issuer.Url + "/token", discovery.GetProperty("token_endpoint").GetString());
        Assert.Equal(["ES256"], discovery.GetProperty("id_token_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public async Task The_JWKS_holds_one_public_P256_signing_key_whose_kid_is_its_thumbprint()
    {
        await using var issuer = await IssuerServer.StartAsync();

        var jwks = await issuer.Http.GetStringAsync(".well-known/jwks.json");

        var key = Assert.Single(new JsonWebKeySet(jwks).Keys);
        Assert.Equal("EC", key.Kty);
        Assert.Equal("P-256", key.Crv);
        Assert.Equal("sig", key.Use);
        Assert.Equal("ES256", key.Alg);
        Assert.Equal(32, Base64UrlEncoder.DecodeBytes(key.X).Length);
        Assert.Equal(32, Base64UrlEncoder.DecodeBytes(key.Y).Length);
        Assert.False(key.HasPrivateKey);
        Assert.DoesNotContain("\"d\"", jwks, StringComparison.Ordinal);
        Assert.Equal(Base64UrlEncoder.Encode(key.ComputeJwkThumbprint()), key.Kid);
    }

    [Fact]
    public async Task A_token_carries_sub_role_iss_aud_iat_nbf_and_exp_for_the_lifetime_asked_and_validates_with_the_JWKS()
    {
        await using var issuer = await IssuerServer.StartAsync();
        var keys = new JsonWebKeySet(await issuer.Http.GetStringAsync(".well-known/jwks.json"));
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var token = await issuer.TokenAsync("alice", "teacher", lifetime: 120);

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = issuer.Url,
            ValidAudience = "switchboard",
            IssuerSigningKeys = keys.Keys,
            ValidAlgorithms = ["ES256"],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal("ES256", jwt.Alg);
        Assert.Equal(keys.Keys[0].Kid, jwt.Kid);
        Assert.Equal("alice", jwt.Subject);
        Assert.Equal("teacher", jwt.GetClaim("role").Value);
        var iat = jwt.GetPayloadValue<long>("iat");
        Assert.InRange(iat, before - 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Equal(iat, jwt.GetPayloadValue<long>("nbf"));
        Assert.Equal(iat + 120, jwt.GetPayloadValue<long>("exp"));
    }

    [Fact]
    public async Task Without_a_lifetime_a_token_lives_an_hour_and_a_student()
    {
        await using var issuer = await IssuerServer.StartAsync();

        var jwt = new JsonWebToken(await issuer.TokenAsync("bob"));

        Assert.Equal("student", jwt.GetClaim("role").Value);
        Assert.Equal(3600, jwt.GetPayloadValue<long>("exp") - jwt.GetPayloadValue<long>("iat"));
    }

    [Theory]
    [InlineData("{\"user\":\"alice\",\"lifetime\":86401}")]
    [InlineData("{\"user\":\"alice\",\"lifetime\":0}")]
    [InlineData("{\"user\":\"alice\",\"lifetime\":-5}")]
    [InlineData("{\"user\":\"\"}")]
    [InlineData("{\"role\":\"admin\"}")]
    [InlineData("{\"user\":\"alice\",\"role\":\"\"}")]
    public async Task A_request_beyond_the_maximum_lifetime_or_without_a_user_or_role_is_a_bad_request(string body)
    {
        await using var issuer = await IssuerServer.StartAsync(("Switchboard:Issuer:MaxLifetime", "1.00:00:00"));

        using var response = await issuer.Http.PostAsync("token", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("eyJ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Its_key_is_written_owner_only_and_read_back_after_a_restart_with_the_same_kid()
    {
        var path = Path.Combine(_directory, "secrets", "issuer-key.pem");
        string firstKid;
        await using (var first = await IssuerServer.StartAsync(("Switchboard:Issuer:KeyPath", path)))
        {
            firstKid = new JsonWebKeySet(await first.Http.GetStringAsync(".well-known/jwks.json")).Keys[0].Kid;
        }

        await using var second = await IssuerServer.StartAsync(("Switchboard:Issuer:KeyPath", path));
        var secondKid = new JsonWebKeySet(await second.Http.GetStringAsync(".well-known/jwks.json")).Keys[0].Kid;

        Assert.Equal(firstKid, secondKid);
        Assert.Contains("BEGIN PRIVATE KEY", await File.ReadAllTextAsync(path), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Theory]
    [InlineData("Authority", "")]
    [InlineData("JwksUrl", IssuerEndpoints.JwksPath)]
    public async Task A_silo_whose_key_source_is_the_issuer_accepts_its_tokens_and_refuses_dev_tokens_and_forged_ones(string source, string path)
    {
        await using var issuer = await IssuerServer.StartAsync();
        await using var silo = new SiloHostFactory(new Dictionary<string, string?>
        {
            ["Switchboard:Auth:SigningKey"] = null,
            ["Switchboard:Auth:DevTokens"] = "false",
            [$"Switchboard:Auth:{source}"] = issuer.Url + path,
            ["Switchboard:Auth:Issuer"] = issuer.Url,
            ["Switchboard:Auth:ValidAlgorithms:0"] = "ES256",
        });
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        var token = await issuer.TokenAsync(alice, "teacher", lifetime: 300);

        await using var socket = await SocketClient.ConnectAsync(silo.BaseAddress, token);
        var presence = await api.GetAsync($"/api/users/{alice}/presence", token);
        var devToken = await api.PostAsync("/api/dev/token", token: null, new { user = alice });
        var hmac = await api.GetAsync($"/api/users/{alice}/presence", TestTokens.Mint(alice, issuer: issuer.Url));

        Assert.Equal(alice, socket.Welcome.Str("user"));
        Assert.Equal(200, presence.Status);
        Assert.Equal(404, devToken.Status);
        Assert.Equal(401, hmac.Status);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
