using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Silo.Auth;

/// <summary>The keys and token validation, plus issuing dev tokens.</summary>
public sealed class TokenService : IDisposable
{
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;

    public TokenService(IOptions<AuthOptions> options, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _options = options.Value;
        _time = time;

        // With dev tokens and no configured key, a random key per process: nothing guessable ships in config.
        // Without dev tokens and with public keys only, there is no HMAC key at all.
        if (!string.IsNullOrEmpty(_options.SigningKey) || _options.DevTokens)
        {
            var key = string.IsNullOrEmpty(_options.SigningKey)
                ? RandomNumberGenerator.GetBytes(32)
                : Encoding.UTF8.GetBytes(_options.SigningKey);
            SigningKey = new SymmetricSecurityKey(key) { KeyId = "switchboard" };
        }

        Keys = new IssuerKeys(_options, SigningKey, time, loggerFactory.CreateLogger(Diagnostics.AuthLog.Category));
        Handler = new ProtocolTokenHandler(_options, Keys, time) { MapInboundClaims = false };
    }

    /// <summary>The shared HMAC key, when one is configured (or dev tokens made one).</summary>
    public SymmetricSecurityKey? SigningKey { get; }

    /// <summary>Every key tokens are checked with.</summary>
    public IssuerKeys Keys { get; }

    /// <summary>The handler every path validates with (the JWT bearer scheme uses it too).</summary>
    public ProtocolTokenHandler Handler { get; }

    private TokenValidationParameters? _validation;

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
    /// claims straight from it: no principal, so a socket keeps only what it uses.
    /// </summary>
    public async ValueTask<BearerToken?> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var result = await Handler.ValidateTokenAsync(token, _validation ??= ValidationParameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return null;
        }

        jwt.TryGetPayloadValue<string>(TokenClaims.Subject, out var subject);
        jwt.TryGetPayloadValue<string>(TokenClaims.Role, out var role);
        return new BearerToken(
            subject,
            role,
            jwt.ValidTo == DateTime.MinValue ? null : new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero),
            jwt.IssuedAt == DateTime.MinValue ? null : new DateTimeOffset(jwt.IssuedAt, TimeSpan.Zero));
    }

    /// <summary>Issues a token for <paramref name="user"/> with <paramref name="role"/>, valid for <paramref name="lifetime"/> (default: the dev token lifetime).</summary>
    public string Issue(string user, string role, TimeSpan? lifetime = null)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? _options.DevTokenLifetime),
            Subject = new ClaimsIdentity([new Claim(TokenClaims.Subject, user), new Claim(TokenClaims.Role, role)]),
            SigningCredentials = new SigningCredentials(
                SigningKey ?? throw new InvalidOperationException("Dev tokens need an HMAC key."), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public void Dispose() => Keys.Dispose();
}

/// <summary>What a validated bearer token says: its <c>sub</c> and <c>role</c> as written (either may be missing), when it expires and when it was issued.</summary>
public sealed record BearerToken(string? Subject, string? Role, DateTimeOffset? Expires, DateTimeOffset? IssuedAt = null);
