using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using Switchboard.Identity;

namespace Switchboard.Silo.Auth;

/// <summary>Reads the protocol's claims (<c>sub</c>, <c>role</c>, <c>exp</c>) from a validated token.</summary>
public static class TokenClaims
{
    public const string Subject = "sub";
    public const string Role = "role";
    public const string Expiry = "exp";

    private static readonly string[] s_protocolClaims = [Subject, Role, Expiry];

    /// <summary>
    /// A principal with only <c>sub</c>, <c>role</c> and <c>exp</c> of <paramref name="validated"/>, and no reference to the
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

    public static bool TryGetCaller(ClaimsPrincipal principal, [NotNullWhen(true)] out Caller? caller)
    {
        caller = null;
        if (!UserId.TryParse(principal.FindFirstValue(Subject), out var user))
        {
            return false;
        }

        caller = new Caller(user, principal.FindFirstValue(Role) ?? string.Empty);
        return true;
    }

    public static bool TryGetExpiry(ClaimsPrincipal principal, out DateTimeOffset expires)
    {
        expires = default;
        if (!long.TryParse(principal.FindFirstValue(Expiry), out var seconds))
        {
            return false;
        }

        expires = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }
}
