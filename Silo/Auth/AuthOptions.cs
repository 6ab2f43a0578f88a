using System.ComponentModel.DataAnnotations;

namespace Switchboard.Silo.Auth;

/// <summary>Token settings (section <c>Switchboard:Auth</c>).</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Switchboard:Auth";

    /// <summary>
    /// HMAC-SHA256 key, at least 32 bytes of text. Every silo (and whatever issues tokens) shares it. When
    /// empty and dev tokens are on, a random key is made at start (tokens die with the process).
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

    /// <summary>Clock skew allowed when checking <c>exp</c>. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
