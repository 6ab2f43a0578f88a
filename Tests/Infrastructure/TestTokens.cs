using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Tests.Infrastructure;

/// <summary>Mints JWTs the way an external issuer would, so tests can make tokens the dev endpoint never would.</summary>
public static class TestTokens
{
    public const string Issuer = "switchboard";
    public const string Audience = "switchboard";

    /// <summary>A token for <paramref name="user"/>; by default valid for an hour and signed with the test key.</summary>
    public static string Mint(
        string user,
        string role = "student",
        DateTime? expires = null,
        string? signingKey = null,
        string issuer = Issuer,
        string audience = Audience,
        bool withExpiry = true)
    {
        signingKey ??= SiloHostFactory.SigningKey;
        var expiry = expires ?? DateTime.UtcNow.AddHours(1);
        var issued = (expiry < DateTime.UtcNow ? expiry : DateTime.UtcNow).AddHours(-1);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = issued,
            NotBefore = issued,
            Expires = withExpiry ? expiry : null,
            Subject = new ClaimsIdentity([new Claim("sub", user), new Claim("role", role)]),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)),
                SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>A token with valid claims and <c>"alg":"none"</c>: no signature at all.</summary>
    public static string Unsigned(string user)
    {
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        var payload = Base64UrlEncoder.Encode($"{{\"sub\":\"{user}\",\"role\":\"admin\",\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"exp\":{exp}}}");
        return $"{header}.{payload}.";
    }

    /// <summary>The claims of a token, read without validating it.</summary>
    public static JsonWebToken Read(string token) => new(token);
}
