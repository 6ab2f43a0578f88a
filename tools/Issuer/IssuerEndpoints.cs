using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Issuer;

/// <summary>
/// The issuer's endpoints: <c>GET /.well-known/openid-configuration</c> (so silos can use it as their <c>Authority</c>),
/// <c>GET /.well-known/jwks.json</c>, and <c>POST /token</c> with <c>{"user","role","lifetime"}</c>.
/// </summary>
public static class IssuerEndpoints
{
    public const string DiscoveryPath = "/.well-known/openid-configuration";
    public const string JwksPath = "/.well-known/jwks.json";
    public const string TokenPath = "/token";

    private static readonly JsonWebTokenHandler Tokens = new() { SetDefaultTimesOnTokenCreation = false };

    public static IEndpointRouteBuilder MapTokenIssuer(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(DiscoveryPath, Discovery);
        endpoints.MapGet(JwksPath, (IssuerKeyPair key) => TypedResults.Json(new { keys = new[] { key.PublicJwk() } }));
        endpoints.MapPost(TokenPath, Issue);
        return endpoints;
    }

    private static JsonHttpResult<Dictionary<string, object>> Discovery(IssuerIdentity identity) => TypedResults.Json(new Dictionary<string, object>
    {
        ["issuer"] = identity.Issuer,
        ["jwks_uri"] = identity.BaseUrl + JwksPath,
        ["token_endpoint"] = identity.BaseUrl + TokenPath,
        ["id_token_signing_alg_values_supported"] = new[] { IssuerKeyPair.Algorithm },
        ["token_endpoint_auth_methods_supported"] = new[] { "none" },
        ["subject_types_supported"] = new[] { "public" },
        ["response_types_supported"] = new[] { "token" },
    });

    private static Results<Ok<TokenReply>, ProblemHttpResult> Issue(
        TokenRequest request, IssuerKeyPair key, IssuerIdentity identity, IOptions<IssuerOptions> options, TimeProvider time, ILoggerFactory logs)
    {
        var settings = options.Value;
        var role = request.Role ?? "student";

        // The silos judge the user id (a test asks for a bad one to see it refused); the issuer only wants some subject.
        if (string.IsNullOrEmpty(request.User) || request.User.Length > 256)
        {
            return Problem("'user' must be 1 to 256 characters.");
        }

        if (role.Length is 0 or > 64)
        {
            return Problem("'role' must be 1 to 64 characters.");
        }

        var lifetime = request.Lifetime is { } seconds ? TimeSpan.FromSeconds(seconds) : settings.DefaultLifetime;
        if (lifetime <= TimeSpan.Zero || lifetime > settings.MaxLifetime)
        {
            return Problem($"'lifetime' must be 1 to {settings.MaxLifetime.TotalSeconds:0} seconds.");
        }

        var now = time.GetUtcNow();
        var expires = now + lifetime;
        var token = Tokens.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = identity.Issuer,
            Audience = settings.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = request.User,
                ["role"] = role,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = key.Credentials,
        });
        IssuerLog.Issued(logs.CreateLogger(IssuerLog.Category), role, lifetime);
        return TypedResults.Ok(new TokenReply(token, expires));
    }

    private static ProblemHttpResult Problem(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "bad_request");

    /// <summary>A token request: the subject, its role (default <c>student</c>) and a lifetime in seconds (default <c>DefaultLifetime</c>).</summary>
    public sealed record TokenRequest(string? User, string? Role, int? Lifetime);

    /// <summary>The token and when it expires.</summary>
    public sealed record TokenReply(string Token, DateTimeOffset Expires);
}
