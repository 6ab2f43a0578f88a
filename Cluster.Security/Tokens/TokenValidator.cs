using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>
/// The one token rule set of the cluster: the keys (<see cref="IssuerKeys"/>), the handler
/// (<see cref="ProtocolTokenHandler"/>) and the parameters every path validates with: the silo's socket, REST
/// and dashboard, and the gateway's front door.
/// </summary>
public sealed class TokenValidator : IDisposable
{
    private readonly AuthOptions _options;
    private TokenValidationParameters? _validation;

    /// <param name="options">The <c>Switchboard:Auth</c> settings.</param>
    /// <param name="signingKey">The HMAC key, when there is one: the configured key, or the silo's random dev key.</param>
    public TokenValidator(AuthOptions options, SymmetricSecurityKey? signingKey, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _options = options;
        Keys = new IssuerKeys(options, signingKey, time, loggerFactory.CreateLogger(TokenLog.Category));
        Handler = new ProtocolTokenHandler(options, Keys, time) { MapInboundClaims = false };
    }

    /// <summary>Every key tokens are checked with.</summary>
    public IssuerKeys Keys { get; }

    /// <summary>The handler every path validates with (the silo's JWT bearer scheme uses it too).</summary>
    public ProtocolTokenHandler Handler { get; }

    /// <summary>Fresh parameters for a JWT bearer scheme (it may change its own copy).</summary>
    public TokenValidationParameters ValidationParameters => new()
    {
        ValidIssuer = _options.Issuer,
        ValidAudience = _options.Audience,
        IssuerSigningKeyResolver = (_, _, kid, _) => Keys.Resolve(kid),
        AlgorithmValidator = (algorithm, key, _, _) => KeyAlgorithms.Fits(algorithm, key, _options.EffectiveAlgorithms),
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        RequireExpirationTime = true,
        ClockSkew = _options.ClockSkew,
        NameClaimType = TokenClaims.Subject,
        RoleClaimType = TokenClaims.Role,
        ValidAlgorithms = _options.EffectiveAlgorithms,
    };

    /// <summary>
    /// Validates <paramref name="token"/> as the JWT bearer scheme does (same parameters) and reads the protocol's
    /// claims straight from it: no principal, so a socket keeps only what it uses. Null when it is missing or invalid.
    /// </summary>
    public async ValueTask<BearerToken?> ValidateAsync(string? token) => (await CheckAsync(token)).Token;

    /// <summary>As <see cref="ValidateAsync"/>, and why a token was refused: safe to log, it never holds the token.</summary>
    public async ValueTask<TokenCheck> CheckAsync(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return TokenCheck.Missing;
        }

        var result = await Handler.ValidateTokenAsync(token, _validation ??= ValidationParameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            // The exception's type only: IdentityModel's messages may quote parts of the token.
            return new TokenCheck(null, result.Exception?.GetType().Name ?? "invalid");
        }

        jwt.TryGetPayloadValue<string>(TokenClaims.Subject, out var subject);
        jwt.TryGetPayloadValue<string>(TokenClaims.Role, out var role);
        return new TokenCheck(new BearerToken(subject, role, Instant(jwt.ValidTo), Instant(jwt.IssuedAt)), null);
    }

    public void Dispose() => Keys.Dispose();

    // IdentityModel reads a missing exp or iat as DateTime.MinValue.
    private static DateTimeOffset? Instant(DateTime utc) => utc == DateTime.MinValue ? null : new DateTimeOffset(utc, TimeSpan.Zero);
}

/// <summary>
/// What a validated bearer token says: its <c>sub</c> and <c>role</c> as written (either may be missing), when it
/// expires (<c>exp</c>) and when it was issued (<c>iat</c>, when it has one).
/// </summary>
public sealed record BearerToken(string? Subject, string? Role, DateTimeOffset? Expires, DateTimeOffset? IssuedAt = null);

/// <summary>The outcome of a check: the token, or why there is none (<c>missing</c>, or the failure's kind).</summary>
public readonly record struct TokenCheck(BearerToken? Token, string? Failure)
{
    public static TokenCheck Missing { get; } = new(null, "missing");

    public bool IsValid => Token is not null;
}
