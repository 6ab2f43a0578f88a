using System.Text;
using Microsoft.IdentityModel.Tokens;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Auth;

/// <summary>
/// RS256 and ES256 tokens checked with keys from a real OpenID Connect authority, a JWKS URL or PEM files, several at
/// once by <c>kid</c>: a rotation logs nobody out, and a key of one family never checks another's signature.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
public sealed class PublicKeyTests : IDisposable
{
    private readonly IssuerKey _a = IssuerKey.Rsa("key-a");
    private readonly IssuerKey _b = IssuerKey.Rsa("key-b");
    private readonly string _directory = Directory.CreateTempSubdirectory("switchboard-keys-").FullName;

    [Fact]
    public async Task A_token_signed_with_a_key_the_authority_publishes_opens_a_socket_and_calls_rest()
    {
        await using var issuer = await JwksServer.StartAsync(_a);
        await using var silo = Silo(("Authority", issuer.Authority));

        await AssertOpensASocketAndCallsRestAsync(silo, _a);
    }

    [Fact]
    public async Task A_rotation_logs_nobody_out_and_retires_the_old_key_once_it_is_no_longer_published()
    {
        await using var issuer = await JwksServer.StartAsync(_a);
        await using var silo = Silo(("Authority", issuer.Authority), ("KeyRefreshInterval", "00:00:01"), ("KeyRefreshMinimumInterval", "00:00:01"));
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var aliceOnA = await SocketClient.ConnectAsync(silo.BaseAddress, _a.Mint(alice));

        // The issuer publishes B beside A: the first B token is accepted at once (its kid fetches the keys again).
        issuer.Publish(_a, _b);
        await using var bobOnB = await SocketClient.ConnectAsync(silo.BaseAddress, _b.Mint(bob));
        Assert.Equal(200, (await api.GetAsync($"/api/users/{alice}/presence", _a.Mint(alice))).Status);

        // A is retired: after the next refresh new A tokens are refused, B tokens work, the socket opened with A stays open.
        issuer.Publish(_b);
        await Wait.UntilAsync(
            async () => (await api.GetAsync($"/api/users/{alice}/presence", _a.Mint(alice))).Status == 401,
            "a token signed with the retired key is refused");
        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(silo.BaseAddress, _a.Mint(alice)));
        Assert.Equal(200, (await api.GetAsync($"/api/users/{bob}/presence", _b.Mint(bob))).Status);
        await bobOnB.SendMessageAsync($"user:{alice}", new { text = "still there?" });
        await aliceOnA.WaitForAsync(f => f.Type() == "message", "bob's message on the socket alice opened with key A");
    }

    [Fact]
    public async Task When_the_issuer_cannot_be_reached_the_keys_fetched_before_stay_in_use()
    {
        var issuer = await JwksServer.StartAsync(_a);
        await using var silo = Silo(("Authority", issuer.Authority), ("KeyRefreshInterval", "00:00:01"), ("KeyRefreshMinimumInterval", "00:00:01"));
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        Assert.Equal(200, (await api.GetAsync($"/api/users/{alice}/presence", _a.Mint(alice))).Status);

        await issuer.DisposeAsync();
        await Wait.UntilAsync(
            async () => (await api.GetAsync($"/api/users/{alice}/presence", _a.Mint(alice))).Status == 200
                && silo.Logs.Lines.Any(l => l.Contains("Could not fetch signing keys", StringComparison.Ordinal)),
            "a refresh failed");

        Assert.Equal(200, (await api.GetAsync($"/api/users/{alice}/presence", _a.Mint(alice))).Status);
        await using var socket = await SocketClient.ConnectAsync(silo.BaseAddress, _a.Mint(alice));
    }

    [Fact]
    public async Task A_token_naming_an_unknown_kid_fetches_the_keys_at_once_but_at_most_once_per_interval()
    {
        await using var issuer = await JwksServer.StartAsync(_a);
        await using var silo = Silo(("Authority", issuer.Authority), ("KeyRefreshMinimumInterval", "00:00:30"));
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        Assert.Equal(200, (await api.GetAsync($"/api/users/{alice}/presence", _a.Mint(alice))).Status);
        var fetchesAtStart = issuer.JwksFetches;

        issuer.Publish(_a, _b);
        var newKey = await api.GetAsync($"/api/users/{alice}/presence", _b.Mint(alice));
        var fetchesForNewKey = issuer.JwksFetches - fetchesAtStart;
        var madeUp = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            madeUp.Add((await api.GetAsync($"/api/users/{alice}/presence", _b.Mint(alice, kid: $"made-up-{i}"))).Status);
        }

        Assert.Equal(200, newKey.Status);
        Assert.Equal(1, fetchesForNewKey);
        Assert.All(madeUp, status => Assert.Equal(401, status));
        Assert.Equal(fetchesAtStart + 1, issuer.JwksFetches);
    }

    [Fact]
    public async Task An_ES256_token_validates_against_a_jwks_url()
    {
        using var ec = IssuerKey.EllipticCurve("ec-1");
        await using var issuer = await JwksServer.StartAsync(ec);
        await using var silo = Silo(("JwksUrl", issuer.JwksUrl));

        await AssertOpensASocketAndCallsRestAsync(silo, ec);
    }

    [Fact]
    public async Task Tokens_signed_with_keys_from_pem_files_validate_and_others_do_not()
    {
        using var ec = IssuerKey.EllipticCurve("2026-12");
        using var stranger = IssuerKey.Rsa("key-a");
        var rsaFile = Path.Combine(_directory, "key-a.pem");
        var ecFile = Path.Combine(_directory, "2026-12.pem");
        await File.WriteAllTextAsync(rsaFile, _a.PublicPem());
        await File.WriteAllTextAsync(ecFile, ec.PublicPem());
        await using var silo = Silo(("PublicKeyFiles:0", rsaFile), ("PublicKeyFiles:1", ecFile));
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");

        await using var socket = await SocketClient.ConnectAsync(silo.BaseAddress, ec.Mint(alice));
        var rsa = await api.GetAsync($"/api/users/{alice}/presence", _a.Mint(alice));
        var noKid = await api.GetAsync($"/api/users/{alice}/presence", _a.Mint(alice, kid: null));
        var strangers = await api.GetAsync($"/api/users/{alice}/presence", stranger.Mint(alice));

        await socket.PingAsync();
        Assert.Equal(200, rsa.Status);
        Assert.Equal(200, noKid.Status);
        Assert.Equal(401, strangers.Status);
    }

    [Fact]
    public async Task Alg_none_and_an_HS256_token_keyed_with_the_public_key_are_refused()
    {
        await using var issuer = await JwksServer.StartAsync(_a);
        var pemFile = Path.Combine(_directory, "key-a.pem");
        await File.WriteAllTextAsync(pemFile, _a.PublicPem());
        await using var silo = Silo(("Authority", issuer.Authority), ("PublicKeyFiles:0", pemFile));
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        string[] forged =
        [
            TestTokens.Unsigned(alice),
            Hs256(alice, Encoding.UTF8.GetBytes(_a.PublicPem())),
            Hs256(alice, Encoding.UTF8.GetBytes(string.Join(",", _a.PublicJwk().Select(p => $"{p.Key}={p.Value}")))),
            Hs256(alice, Base64UrlEncoder.DecodeBytes(_a.PublicJwk()["n"])),
        ];

        Assert.Equal(200, (await api.GetAsync($"/api/users/{alice}/presence", _a.Mint(alice))).Status);
        foreach (var token in forged)
        {
            Assert.Equal(401, (await api.GetAsync($"/api/users/{alice}/presence", token)).Status);
            Assert.Equal(401, await SocketClient.TryConnectStatusAsync(silo.BaseAddress, token));
        }
    }

    [Fact]
    public async Task Algorithms_left_out_of_ValidAlgorithms_are_refused_even_with_a_known_key()
    {
        using var ec = IssuerKey.EllipticCurve("ec-1");
        await using var issuer = await JwksServer.StartAsync(_a, ec);
        await using var silo = Silo(("JwksUrl", issuer.JwksUrl), ("ValidAlgorithms:0", "RS256"), ("SigningKey", SiloHostFactory.SigningKey));
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");

        var rs256 = await api.GetAsync($"/api/users/{alice}/presence", _a.Mint(alice));
        var es256 = await api.GetAsync($"/api/users/{alice}/presence", ec.Mint(alice));
        var hs256 = await api.GetAsync($"/api/users/{alice}/presence", TestTokens.Mint(alice));

        Assert.Equal(200, rs256.Status);
        Assert.Equal(401, es256.Status);
        Assert.Equal(401, hs256.Status);
    }

    [Fact]
    public async Task A_silo_refuses_to_start_with_key_settings_it_cannot_trust()
    {
        var privateKey = Path.Combine(_directory, "private.pem");
        using (var rsa = System.Security.Cryptography.RSA.Create(2048))
        {
            await File.WriteAllTextAsync(privateKey, rsa.ExportPkcs8PrivateKeyPem());
        }

        (string Key, string Value, string Named)[] refused =
        [
            ("Authority", "http://login.example.com", "Switchboard:Auth:Authority"),
            ("JwksUrl", "ftp://127.0.0.1/jwks", "Switchboard:Auth:JwksUrl"),
            ("PublicKeyFiles:0", privateKey, "Switchboard:Auth:PublicKeyFiles"),
            ("PublicKeyFiles:0", Path.Combine(_directory, "missing.pem"), "Switchboard:Auth:PublicKeyFiles"),
            ("ValidAlgorithms:0", "none", "Switchboard:Auth:ValidAlgorithms"),
        ];
        foreach (var (key, value, named) in refused)
        {
            var factory = Silo((key, value));

            var exception = await factory.StartExpectingRefusalAsync();

            Assert.True(exception is not null, $"a silo started with {key}={value}");
            Assert.Contains(named, exception.Message, StringComparison.Ordinal);
        }
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A silo with dev tokens off and no HMAC key: only the given public key sources validate.</summary>
    private static SiloHostFactory Silo(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?> { ["Switchboard:Auth:SigningKey"] = null, ["Switchboard:Auth:DevTokens"] = "false" };
        foreach (var (key, value) in settings)
        {
            all[$"Switchboard:Auth:{key}"] = value;
        }

        return new SiloHostFactory(all);
    }

    private static async Task AssertOpensASocketAndCallsRestAsync(SiloHostFactory silo, IssuerKey key)
    {
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");

        await using var socket = await SocketClient.ConnectAsync(silo.BaseAddress, key.Mint(alice));
        var reply = await api.GetAsync($"/api/users/{alice}/presence", key.Mint(alice));

        await socket.PingAsync();
        Assert.Equal(200, reply.Status);
    }

    private static string Hs256(string user, byte[] secret) =>
        TestTokens.Mint(user, "admin", credentials: new SigningCredentials(new SymmetricSecurityKey(secret) { KeyId = "key-a" }, SecurityAlgorithms.HmacSha256));
}
