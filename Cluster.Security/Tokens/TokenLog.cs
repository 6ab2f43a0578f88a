using Microsoft.Extensions.Logging;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>Token key events (6xxx, the auth area), logged by silos and the gateway alike. Never a token.</summary>
internal static partial class TokenLog
{
    /// <summary>The category both hosts log key events under.</summary>
    public const string Category = "Switchboard.Auth";

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Fetched {Count} signing keys from {Source} (kids {KeyIds})")]
    public static partial void KeysFetched(ILogger logger, string source, int count, string keyIds);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Could not fetch signing keys from {Source}; the keys fetched before stay in use")]
    public static partial void KeyFetchFailed(ILogger logger, string source, Exception exception);
}
