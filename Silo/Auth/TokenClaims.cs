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
