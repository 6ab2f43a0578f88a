using System.ComponentModel.DataAnnotations;
using Switchboard.Cluster.Security.Tokens;

namespace Switchboard.Silo.Auth;

/// <summary>
/// The silo's dev tokens (section <c>Switchboard:Auth</c>, beside the validation settings of <see cref="AuthOptions"/>,
/// which the gateway binds too: only silos issue tokens).
/// </summary>
public sealed class DevTokenOptions
{
    public const string SectionName = AuthOptions.SectionName;

    /// <summary>
    /// Serves <c>POST /api/dev/token</c>, which mints any token for anyone. Default off; the embedded default turns it on
    /// in the Development environment (<c>appsettings.Development.json</c>). Refused at start in Production.
    /// </summary>
    public bool DevTokens { get; set; }

    /// <summary>Lifetime of dev tokens. Default 12 h.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "30.00:00:00")]
    public TimeSpan DevTokenLifetime { get; set; } = TimeSpan.FromHours(12);
}
