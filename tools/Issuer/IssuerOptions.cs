using System.ComponentModel.DataAnnotations;

namespace Switchboard.Issuer;

/// <summary>The development token issuer's settings (section <c>Switchboard:Issuer</c>).</summary>
public sealed class IssuerOptions : IValidatableObject
{
    public const string SectionName = "Switchboard:Issuer";

    /// <summary>Where it listens: http or https on a loopback address (127.0.0.1, [::1] or localhost). Default <c>http://127.0.0.1:5990</c>.</summary>
    [Required]
    public string Url { get; set; } = "http://127.0.0.1:5990";

    /// <summary>
    /// A PEM file with the ES256 (P-256) private key, made (mode 600) when it does not exist, so tokens outlive a restart.
    /// Default none: a key made at start, and tokens die with the process.
    /// </summary>
    public string? KeyPath { get; set; }

    /// <summary>The <c>iss</c> of its tokens and of its discovery document. Default: its own base URL, as an OpenID Connect authority's.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> of its tokens. Default <c>switchboard</c>.</summary>
    [Required]
    public string Audience { get; set; } = "switchboard";

    /// <summary>Lifetime of a token whose request names none. Default 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan DefaultLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The longest lifetime a request may ask for; keep it within the silos' <c>MaxTokenLifetime</c>. Default 24 h.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromHours(24);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LoopbackAddress.Problem(Url) is { } problem)
        {
            yield return new ValidationResult($"{SectionName}:Url {problem}", [nameof(Url)]);
        }

        if (DefaultLifetime > MaxLifetime)
        {
            yield return new ValidationResult(
                $"{SectionName}:DefaultLifetime ({DefaultLifetime}) is longer than {SectionName}:MaxLifetime ({MaxLifetime}).",
                [nameof(DefaultLifetime)]);
        }
    }
}
