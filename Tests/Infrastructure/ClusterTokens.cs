using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// Tokens the host under test trusts, for the tests of the shared silo host. The in-process host and a plain cluster
/// sign with the shared HMAC key (and serve dev tokens); a secure cluster (<see cref="TestTargets.IssuerUrl"/>) trusts
/// only its issuer's ES256 key: ordinary tokens come from the issuer's token endpoint, and tokens the issuer would
/// never make (expired, wrong audience, a year long...) are signed with the issuer's own key, so the silo refuses
/// them for what is wrong with them and not merely for an unknown key.
/// </summary>
public sealed class ClusterTokens : IDisposable
{
    private readonly HttpClient? _issuer;
    private readonly ECDsa? _key;
    private SigningCredentials? _credentials;

    private ClusterTokens(HttpClient? issuer, ECDsa? key)
    {
        _issuer = issuer;
        _key = key;
    }

    /// <summary>True when the cluster under test trusts an issuer's public key only (dev tokens off).</summary>
    public bool FromIssuer => _issuer is not null;

    /// <summary>The <c>iss</c> the host expects: the issuer's, or <see cref="TestTokens.Issuer"/>.</summary>
    public string Issuer { get; private set; } = TestTokens.Issuer;

    /// <summary>The issuer's key id; null with the HMAC key.</summary>
    public string? KeyId { get; private set; }

    /// <summary>For the cluster <see cref="TestTargets"/> names: its issuer's discovery document and keys are read, and checked against its key file.</summary>
    public static async Task<ClusterTokens> OpenAsync()
    {
        if (TestTargets.IssuerUrl is not { } url)
        {
            return new ClusterTokens(null, null);
        }

        var keyPath = TestTargets.IssuerKeyPath
            ?? throw new InvalidOperationException("SWITCHBOARD_TEST_ISSUER_URL is set without SWITCHBOARD_TEST_ISSUER_KEY (the issuer's private key file).");
        var key = ECDsa.Create();
        key.ImportFromPem(await File.ReadAllTextAsync(keyPath));
        var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        var tokens = new ClusterTokens(http, key);
        var discovery = await http.GetFromJsonAsync<JsonElement>(".well-known/openid-configuration");
        tokens.Issuer = discovery.GetProperty("issuer").GetString()!;
        var jwks = await http.GetFromJsonAsync<JsonElement>(discovery.GetProperty("jwks_uri").GetString());
        var x = Base64UrlEncoder.Encode(key.ExportParameters(false).Q.X);

        // The key file must be the published key, or every crafted token would be refused for the wrong reason.
        var published = jwks.GetProperty("keys").EnumerateArray().SingleOrDefault(k => k.GetProperty("x").GetString() == x);
        if (published.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException($"{keyPath} is not the key {url} publishes.");
        }

        tokens.KeyId = published.GetProperty("kid").GetString();
        tokens._credentials = new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = tokens.KeyId }, SecurityAlgorithms.EcdsaSha256);
        return tokens;
    }

    /// <summary>A token from the issuer's token endpoint, valid for <paramref name="lifetime"/> (default: the issuer's).</summary>
    public async Task<string> IssueAsync(string user, string role = "student", TimeSpan? lifetime = null)
    {
        var request = new Dictionary<string, object> { ["user"] = user, ["role"] = role };
        if (lifetime is { } value)
        {
            request["lifetime"] = (int)Math.Ceiling(value.TotalSeconds);
        }

        using var response = await (_issuer ?? throw new InvalidOperationException("No issuer: the host trusts the HMAC key.")).PostAsJsonAsync("token", request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>
    /// A token for <paramref name="user"/> issued now and valid for <paramref name="lifetime"/>: from the issuer (its
    /// lifetime parameter), or signed with the HMAC key.
    /// </summary>
    public Task<string> ValidForAsync(string user, TimeSpan lifetime) =>
        FromIssuer ? IssueAsync(user, lifetime: lifetime) : Task.FromResult(Mint(user, issuedAt: DateTime.UtcNow, expires: DateTime.UtcNow + lifetime));

    /// <summary>
    /// A token signed with the key the host trusts (the issuer's or the HMAC key), with its issuer unless
    /// <paramref name="issuer"/> says otherwise; the rest as <see cref="TestTokens.Mint"/>.
    /// </summary>
    public string Mint(
        string user,
        object? role = null,
        DateTime? expires = null,
        string? issuer = null,
        string audience = TestTokens.Audience,
        bool withExpiry = true,
        DateTime? issuedAt = null,
        bool withIssuedAt = true) =>
        TestTokens.Mint(user, role, expires, issuer: issuer ?? Issuer, audience: audience, withExpiry: withExpiry,
            issuedAt: issuedAt, withIssuedAt: withIssuedAt, credentials: _credentials);

    /// <summary>
    /// A token with the right claims signed with a key the host does not trust: another HMAC key, or (for an issuer)
    /// another EC key under the issuer's own <c>kid</c>, so the silo finds the key and the signature fails.
    /// </summary>
    public string MintWithAnotherKey(string user)
    {
        if (_credentials is null)
        {
            return TestTokens.Mint(user, signingKey: "some-other-signing-key-0123456789abcdefghij");
        }

        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return TestTokens.Mint(user, issuer: Issuer, credentials: new SigningCredentials(new ECDsaSecurityKey(other) { KeyId = KeyId }, SecurityAlgorithms.EcdsaSha256));
    }

    public void Dispose()
    {
        _issuer?.Dispose();
        _key?.Dispose();
    }
}
