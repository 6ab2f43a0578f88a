using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using Switchboard.Cluster.Security.Tokens;
using Switchboard.Identity;

namespace Switchboard.Silo.Auth;

/// <summary>The caller a validated principal stands for: its <c>sub</c> as a user id, and its <c>role</c>.</summary>
public static class CallerClaims
{
    public static bool TryGetCaller(ClaimsPrincipal principal, [NotNullWhen(true)] out Caller? caller)
    {
        caller = null;
        if (!UserId.TryParse(principal.FindFirstValue(TokenClaims.Subject), out var user))
        {
            return false;
        }

        caller = new Caller(user, principal.FindFirstValue(TokenClaims.Role) ?? string.Empty);
        return true;
    }
}
