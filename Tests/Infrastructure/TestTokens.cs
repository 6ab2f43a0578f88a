using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Tests.Infrastructure;

/// <summary>Mints JWTs the way an external issuer would, so tests can make tokens the dev endpoint never would.</summary>
public static class TestTokens
{
    public const string Issuer = "switchboard";
    public const string Audience = "switchboard";

    /// <summary>
    /// A token for <paramref name="user"/>; by default valid for an hour (issued an hour ago) and signed with the test
    /// key (or <paramref name="credentials"/>). <paramref name="role"/> is written as given: a string, or an array or number to test what is refused.
    /// </summary>
    public static string Mint(
        string user,
        object? role = null,
        DateTime? expires = null,
        string? signingKey = null,
        string issuer = Issuer,
        string audience = Audience,
        bool withExpiry = true,
        DateTime? issuedAt = null,
        bool withIssuedAt = true,
        SigningCredentials? credentials = null)
    {
        signingKey ??= SiloHostFactory.SigningKey;
        var expiry = expires ?? DateTime.UtcNow.AddHours(1);
        var issued = issuedAt ?? (expiry < DateTime.UtcNow ? expiry : DateTime.UtcNow).AddHours(-1);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = withIssuedAt ? issued : null,
            NotBefore = issued < DateTime.UtcNow ? issued : DateTime.UtcNow.AddMinutes(-1),
            Expires = withExpiry ? expiry : null,
            Claims = new Dictionary<string, object> { ["sub"] = user, ["role"] = role ?? "student" },
            SigningCredentials = credentials ?? new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)),
                SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>A token with valid claims and <c>"alg":"none"</c>: no signature at all.</summary>
    public static string Unsigned(string user, string issuer = Issuer)
    {
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        var payload = Base64UrlEncoder.Encode($"{{\"sub\":\"{user}\",\"role\":\"admin\",\"iss\":\"{issuer}\",\"aud\":\"{Audience}\",\"exp\":{exp}}}");
        return $"{header}.{payload}.";
    }

    /// <summary>The claims of a token, read without validating it.</summary>
    public static JsonWebToken Read(string token) => new(token);
}
