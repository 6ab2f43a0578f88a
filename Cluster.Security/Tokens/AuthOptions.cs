using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>
/// How bearer tokens are validated (section <c>Switchboard:Auth</c>): the one rule set of the silos (socket, REST,
/// dashboard) and the gateway, so an operator configures both hosts alike. The silo's dev token settings bind the same
/// section (<c>DevTokenOptions</c> in the silo): the gateway never issues tokens.
/// </summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string SectionName = "Switchboard:Auth";

    /// <summary>
    /// HMAC-SHA256 key shared by every silo, the gateway and whatever issues tokens, written as hex (64+ characters) or
    /// base64 of 32+ random bytes (<see cref="SigningKeyPolicy"/>); its text is the key, as issuers use it. When empty and
    /// the silo's dev tokens are on, the silo makes a random key at start (tokens die with the process).
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>The <c>iss</c> tokens must carry. Default <c>switchboard</c>.</summary>
    [Required]
    public string Issuer { get; set; } = "switchboard";

    /// <summary>The <c>aud</c> tokens must carry. Default <c>switchboard</c>.</summary>
    [Required]
    public string Audience { get; set; } = "switchboard";

    /// <summary>
    /// The longest a token may live: <c>exp</c> − <c>iat</c> (or − now, when it has no <c>iat</c>). Longer-lived tokens
    /// are refused. Default 24 h.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Clock skew allowed when checking <c>exp</c>. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// An OpenID Connect issuer URL (https, or http on loopback): its <c>.well-known/openid-configuration</c> names the
    /// <c>jwks_uri</c> whose RSA and EC keys validate tokens. Default none.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>A JWKS document's URL (https, or http on loopback) whose RSA and EC keys validate tokens. Default none.</summary>
    public string? JwksUrl { get; set; }

    /// <summary>
    /// PEM files holding one RSA or EC public key each; a key's <c>kid</c> is its file name without the extension
    /// (a token without a <c>kid</c> is tried against every key). Default none.
    /// </summary>
    public string[] PublicKeyFiles { get; set; } = [];

    /// <summary>How often the keys of <see cref="Authority"/> or <see cref="JwksUrl"/> are fetched again. Default 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A token whose <c>kid</c> no key has fetches the keys again at once, at most once per this interval (so
    /// made-up key ids cannot turn a silo or gateway into a flood of requests to the issuer). Default 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeyRefreshMinimumInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The <c>alg</c> values accepted (HS/RS/PS/ES with 256, 384 or 512); each key still takes only its own family
    /// (an RSA key never checks an HMAC signature). Default (empty) RS256, ES256 and HS256.
    /// </summary>
    public string[] ValidAlgorithms { get; set; } = [];

    /// <summary>The algorithms tokens may use: <see cref="ValidAlgorithms"/>, or the defaults when it is empty.</summary>
    internal IReadOnlyList<string> EffectiveAlgorithms => ValidAlgorithms.Length > 0 ? ValidAlgorithms : KeyAlgorithms.Defaults;

    /// <summary>Whether any asymmetric key source is configured.</summary>
    public bool HasPublicKeys => !string.IsNullOrEmpty(Authority) || !string.IsNullOrEmpty(JwksUrl) || PublicKeyFiles.Length > 0;

    /// <summary>Whether any key is configured: without one no token validates (the hosts decide whether that may start).</summary>
    public bool HasKeySource => !string.IsNullOrEmpty(SigningKey) || HasPublicKeys;

    /// <summary>Why a host with no key must not start, as the hosts word it.</summary>
    public const string NoKeyProblem =
        $"{SectionName}:SigningKey, Authority, JwksUrl or PublicKeyFiles is required (for a shared key set e.g. Switchboard__Auth__SigningKey to `openssl rand -hex 32`, the same on every silo and gateway).";

    /// <summary>The configured HMAC key (its UTF-8 text, as issuers use it), or null when there is none.</summary>
    public SymmetricSecurityKey? ConfiguredSigningKey() =>
        string.IsNullOrEmpty(SigningKey) ? null : new SymmetricSecurityKey(Encoding.UTF8.GetBytes(SigningKey)) { KeyId = SigningKeyId };

    /// <summary>The <c>kid</c> of the HMAC key in tokens this cluster issues.</summary>
    public const string SigningKeyId = "switchboard";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Whether a host may run without any key is the host's rule (the silo's dev tokens, the gateway's ValidateTokens).
        if (!string.IsNullOrEmpty(SigningKey) && SigningKeyPolicy.Check(SigningKey) is { } problem)
        {
            yield return new ValidationResult($"{SectionName}:SigningKey {problem}", [nameof(SigningKey)]);
        }

        foreach (var (name, url) in new[] { (nameof(Authority), Authority), (nameof(JwksUrl), JwksUrl) })
        {
            if (!string.IsNullOrEmpty(url) && KeyUrls.Problem(url) is { } urlProblem)
            {
                yield return new ValidationResult($"{SectionName}:{name} {urlProblem}", [name]);
            }
        }

        foreach (var file in PublicKeyFiles)
        {
            if (PublicKeyFile.Problem(file) is { } fileProblem)
            {
                yield return new ValidationResult($"{SectionName}:PublicKeyFiles: {file} {fileProblem}", [nameof(PublicKeyFiles)]);
            }
        }

        foreach (var algorithm in ValidAlgorithms)
        {
            if (!KeyAlgorithms.Known.Contains(algorithm))
            {
                yield return new ValidationResult(
                    $"{SectionName}:ValidAlgorithms: '{algorithm}' is not one of {string.Join(", ", KeyAlgorithms.Known)}.",
                    [nameof(ValidAlgorithms)]);
            }
        }

        if (KeyRefreshMinimumInterval > KeyRefreshInterval)
        {
            yield return new ValidationResult(
                $"{SectionName}:KeyRefreshMinimumInterval ({KeyRefreshMinimumInterval}) is longer than {SectionName}:KeyRefreshInterval ({KeyRefreshInterval}).",
                [nameof(KeyRefreshMinimumInterval)]);
        }
    }
}
