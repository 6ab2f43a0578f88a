using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Tests.Infrastructure.Servers;

/// <summary>
/// A token issuer's public face on real Kestrel (127.0.0.1, a free port): <c>/.well-known/openid-configuration</c>
/// naming <c>/jwks</c>, which serves whatever keys the test last published, and counts how often it was fetched.
/// </summary>
public sealed class JwksServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile IssuerKey[] _published = [];
    private int _jwksFetches;

    private JwksServer(WebApplication app) => _app = app;

    /// <summary>The authority URL (its discovery document is under <c>/.well-known/</c>).</summary>
    public string Authority { get; private set; } = "";

    /// <summary>The JWKS document's URL.</summary>
    public string JwksUrl => Authority + "/jwks";

    /// <summary>How many times the JWKS document was served.</summary>
    public int JwksFetches => Volatile.Read(ref _jwksFetches);

    public static async Task<JwksServer> StartAsync(params IssuerKey[] published)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var server = new JwksServer(builder.Build());
        server.Publish(published);
        server._app.MapGet("/.well-known/openid-configuration", () => Results.Text(
            JsonSerializer.Serialize(new Dictionary<string, string> { ["issuer"] = server.Authority, ["jwks_uri"] = server.JwksUrl }), "application/json"));
        server._app.MapGet("/jwks", () =>
        {
            Interlocked.Increment(ref server._jwksFetches);
            return Results.Text(JsonSerializer.Serialize(new { keys = server._published.Select(k => k.PublicJwk()).ToArray() }), "application/json");
        });
        await server._app.StartAsync();
        var address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Authority = address.TrimEnd('/');
        return server;
    }

    /// <summary>From now on the JWKS holds exactly <paramref name="keys"/>.</summary>
    public void Publish(params IssuerKey[] keys) => _published = keys;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>An issuer's signing key (RSA or EC, with its private part) that mints tokens as an external issuer would.</summary>
public sealed class IssuerKey : IDisposable
{
    private readonly AsymmetricAlgorithm _algorithm;

    private IssuerKey(string kid, string algorithm, AsymmetricAlgorithm key, SecurityKey securityKey)
    {
        Kid = kid;
        Algorithm = algorithm;
        _algorithm = key;
        SecurityKey = securityKey;
    }

    public string Kid { get; }

    public string Algorithm { get; }

    public SecurityKey SecurityKey { get; }

    public static IssuerKey Rsa(string kid)
    {
        var rsa = RSA.Create(2048);
        return new IssuerKey(kid, SecurityAlgorithms.RsaSha256, rsa, new RsaSecurityKey(rsa) { KeyId = kid });
    }

    public static IssuerKey EllipticCurve(string kid)
    {
        var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new IssuerKey(kid, SecurityAlgorithms.EcdsaSha256, ec, new ECDsaSecurityKey(ec) { KeyId = kid });
    }

    /// <summary>The public key in PEM (<c>-----BEGIN PUBLIC KEY-----</c>), as an issuer hands it out.</summary>
    public string PublicPem() => _algorithm.ExportSubjectPublicKeyInfoPem();

    /// <summary>The public key as a JWK, as a JWKS document lists it.</summary>
    public Dictionary<string, string> PublicJwk()
    {
        var jwk = new Dictionary<string, string> { ["kid"] = Kid, ["use"] = "sig", ["alg"] = Algorithm };
        switch (_algorithm)
        {
            case RSA rsa:
                var p = rsa.ExportParameters(false);
                jwk["kty"] = "RSA";
                jwk["n"] = Base64UrlEncoder.Encode(p.Modulus);
                jwk["e"] = Base64UrlEncoder.Encode(p.Exponent);
                break;
            case ECDsa ec:
                var q = ec.ExportParameters(false).Q;
                jwk["kty"] = "EC";
                jwk["crv"] = "P-256";
                jwk["x"] = Base64UrlEncoder.Encode(q.X);
                jwk["y"] = Base64UrlEncoder.Encode(q.Y);
                break;
        }

        return jwk;
    }

    /// <summary>A token for <paramref name="user"/> signed with this key; <paramref name="kid"/> overrides the header's key id (null: none).</summary>
    public string Mint(string user, string role = "student", string? kid = "")
    {
        var key = kid == "" ? SecurityKey : WithKid(kid);
        return TestTokens.Mint(user, role, credentials: new SigningCredentials(key, Algorithm));
    }

    private SecurityKey WithKid(string? kid) => _algorithm switch
    {
        RSA rsa => new RsaSecurityKey(rsa) { KeyId = kid },
        ECDsa ec => new ECDsaSecurityKey(ec) { KeyId = kid },
        _ => throw new InvalidOperationException(),
    };

    public void Dispose() => _algorithm.Dispose();
}
