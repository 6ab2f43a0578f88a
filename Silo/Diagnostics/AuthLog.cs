namespace Switchboard.Silo.Diagnostics;

internal static partial class AuthLog
{
    public const string Category = "Switchboard.Silo.Auth";

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Dev tokens are on (environment {Environment}): POST /api/dev/token mints a token, admin included, for anyone who asks. Never in production")]
    public static partial void DevTokensOn(ILogger logger, string environment);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Fetched {Count} signing keys from {Source} (kids {KeyIds})")]
    public static partial void KeysFetched(ILogger logger, string source, int count, string keyIds);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Could not fetch signing keys from {Source}; the keys fetched before stay in use")]
    public static partial void KeyFetchFailed(ILogger logger, string source, Exception exception);
}
