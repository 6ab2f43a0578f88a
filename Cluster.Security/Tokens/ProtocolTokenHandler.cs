using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>
/// JWT validation with the protocol's own rules on top of the standard ones (signature, issuer, audience, expiry):
/// a token lives at most <see cref="AuthOptions.MaxTokenLifetime"/>, and <c>sub</c> and <c>role</c> are single
/// strings when present. The one handler behind REST, the dashboard and <c>/ws</c>, and the gateway's check before
/// proxying, so they never disagree on a token (an array <c>role</c> once read as "" on a socket, its first element
/// on REST and any element in the admin policy). Keys come from <see cref="IssuerKeys"/>: a token naming a
/// <c>kid</c> no key has fetches the published keys again (rate-limited) and is checked once more, so the first
/// token signed with a newly published key is accepted.
/// </summary>
public sealed class ProtocolTokenHandler(AuthOptions options, IssuerKeys keys, TimeProvider time) : JsonWebTokenHandler
{
    private static readonly string[] s_singleStringClaims = [TokenClaims.Subject, TokenClaims.Role];

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        await keys.EnsureFreshAsync();
        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (!result.IsValid && UnknownKeyId(token) is { } kid && await keys.RefreshForUnknownKeyAsync(kid))
        {
            result = await base.ValidateTokenAsync(token, validationParameters);
        }

        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return result;
        }

        var problem = ClaimShapeProblem(jwt) ?? LifetimeProblem(jwt);
        return problem is null ? result : new TokenValidationResult { IsValid = false, Exception = new SecurityTokenValidationException(problem) };
    }

    /// <summary>The token's <c>kid</c> when it names one no key has (read only after a failure: the cold path).</summary>
    private string? UnknownKeyId(string token)
    {
        if (keys.Source is null || !CanReadToken(token))
        {
            return null;
        }

        try
        {
            var kid = new JsonWebToken(token).Kid;
            return string.IsNullOrEmpty(kid) || keys.Knows(kid) ? null : kid;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string? ClaimShapeProblem(JsonWebToken jwt)
    {
        foreach (var claim in s_singleStringClaims)
        {
            if (jwt.TryGetPayloadValue<object>(claim, out var value) && value is not string)
            {
                return $"The token's '{claim}' must be one string.";
            }
        }

        return null;
    }

    private string? LifetimeProblem(JsonWebToken jwt)
    {
        // From iat, or from now when there is none (or it lies in the future): a token cannot buy a longer life
        // by claiming to be issued later.
        var now = time.GetUtcNow().UtcDateTime;
        var from = jwt.IssuedAt == DateTime.MinValue || jwt.IssuedAt > now ? now : jwt.IssuedAt;
        var lifetime = jwt.ValidTo - from;
        return lifetime > options.MaxTokenLifetime + options.ClockSkew
            ? $"The token lives {lifetime:g}, longer than the maximum of {options.MaxTokenLifetime:g}."
            : null;
    }
}
