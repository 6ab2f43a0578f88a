using System.ComponentModel.DataAnnotations;

namespace Switchboard.Silo.Auth;

/// <summary>Token settings (section <c>Switchboard:Auth</c>).</summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string SectionName = "Switchboard:Auth";

    /// <summary>
    /// HMAC-SHA256 key shared by every silo and whatever issues tokens, written as hex (64+ characters) or base64
    /// of 32+ random bytes (<see cref="SigningKeyPolicy"/>); its text is the key, as issuers use it. When empty and
    /// dev tokens are on, a random key is made at start (tokens die with the process).
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>The <c>iss</c> tokens must carry. Default <c>switchboard</c>.</summary>
    [Required]
    public string Issuer { get; set; } = "switchboard";

    /// <summary>The <c>aud</c> tokens must carry. Default <c>switchboard</c>.</summary>
    [Required]
    public string Audience { get; set; } = "switchboard";

    /// <summary>
    /// Serves <c>POST /api/dev/token</c>, which mints any token for anyone. Default off; the embedded default turns it on
    /// in the Development environment (<c>appsettings.Development.json</c>). Refused at start in Production.
    /// </summary>
    public bool DevTokens { get; set; }

    /// <summary>Lifetime of dev tokens. Default 12 h.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "30.00:00:00")]
    public TimeSpan DevTokenLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// The longest a token may live: <c>exp</c> − <c>iat</c> (or − now, when it has no <c>iat</c>). Longer-lived tokens
    /// are refused. Default 24 h.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Clock skew allowed when checking <c>exp</c>. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(SigningKey))
        {
            if (!DevTokens)
            {
                yield return new ValidationResult(
                    $"{SectionName}:SigningKey is required when dev tokens are off (set it, e.g. Switchboard__Auth__SigningKey, to `openssl rand -hex 32`, shared by every silo).",
                    [nameof(SigningKey)]);
            }
        }
        else if (SigningKeyPolicy.Check(SigningKey) is { } problem)
        {
            yield return new ValidationResult($"{SectionName}:SigningKey {problem}", [nameof(SigningKey)]);
        }

        if (DevTokens && DevTokenLifetime > MaxTokenLifetime)
        {
            yield return new ValidationResult(
                $"{SectionName}:DevTokenLifetime ({DevTokenLifetime}) is longer than {SectionName}:MaxTokenLifetime ({MaxTokenLifetime}): dev tokens would be refused.",
                [nameof(DevTokenLifetime)]);
        }
    }
}
