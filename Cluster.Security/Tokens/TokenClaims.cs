using System.Security.Claims;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>Reads the protocol's claims (<c>sub</c>, <c>role</c>, <c>exp</c>, <c>iat</c>) from a validated token.</summary>
public static class TokenClaims
{
    public const string Subject = "sub";
    public const string Role = "role";
    public const string Expiry = "exp";
    public const string IssuedAt = "iat";

    private static readonly string[] s_protocolClaims = [Subject, Role, Expiry, IssuedAt];

    /// <summary>
    /// A principal with only <c>sub</c>, <c>role</c>, <c>exp</c> and <c>iat</c> (revocation needs it) of <paramref name="validated"/>, and no reference to the
    /// token it was read from (a validated JWT identity holds the parsed token, every claim and their strings).
    /// </summary>
    public static ClaimsPrincipal KeepProtocolClaims(ClaimsPrincipal validated)
    {
        var source = validated.Identity as ClaimsIdentity;
        var claims = new List<Claim>(s_protocolClaims.Length);
        foreach (var type in s_protocolClaims)
        {
            var claim = validated.FindFirst(type);
            if (claim is not null)
            {
                claims.Add(new Claim(type, claim.Value, claim.ValueType, claim.Issuer));
            }
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, source?.AuthenticationType, Subject, Role));
    }

    public static bool TryGetExpiry(ClaimsPrincipal principal, out DateTimeOffset expires) => TryGetInstant(principal, Expiry, out expires);

    public static bool TryGetIssuedAt(ClaimsPrincipal principal, out DateTimeOffset issuedAt) => TryGetInstant(principal, IssuedAt, out issuedAt);

    private static bool TryGetInstant(ClaimsPrincipal principal, string claim, out DateTimeOffset instant)
    {
        instant = default;
        if (!long.TryParse(principal.FindFirstValue(claim), out var seconds))
        {
            return false;
        }

        instant = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }
}
