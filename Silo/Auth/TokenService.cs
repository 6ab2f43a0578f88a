using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Switchboard.Cluster.Security.Tokens;

namespace Switchboard.Silo.Auth;

/// <summary>The silo's tokens: the shared <see cref="TokenValidator"/> over this silo's keys, plus issuing dev tokens.</summary>
public sealed class TokenService : IDisposable
{
    private readonly AuthOptions _options;
    private readonly DevTokenOptions _devTokens;
    private readonly TimeProvider _time;

    public TokenService(IOptions<AuthOptions> options, IOptions<DevTokenOptions> devTokens, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _options = options.Value;
        _devTokens = devTokens.Value;
        _time = time;

        // With dev tokens and no configured key, a random key per process: nothing guessable ships in config.
        // Without dev tokens and with public keys only, there is no HMAC key at all.
        SigningKey = _options.ConfiguredSigningKey()
            ?? (_devTokens.DevTokens ? new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = AuthOptions.SigningKeyId } : null);
        Validator = new TokenValidator(_options, SigningKey, time, loggerFactory);
    }

    /// <summary>The shared HMAC key, when one is configured (or dev tokens made one).</summary>
    public SymmetricSecurityKey? SigningKey { get; }

    /// <summary>The rules every path of this silo validates with (the gateway builds the same from the same settings).</summary>
    public TokenValidator Validator { get; }

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
            Expires = now + (lifetime ?? _devTokens.DevTokenLifetime),
            Subject = new ClaimsIdentity([new Claim(TokenClaims.Subject, user), new Claim(TokenClaims.Role, role)]),
            SigningCredentials = new SigningCredentials(
                SigningKey ?? throw new InvalidOperationException("Dev tokens need an HMAC key."), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public void Dispose() => Validator.Dispose();
}
