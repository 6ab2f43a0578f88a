namespace Switchboard.Silo.Diagnostics;

/// <summary>The silo's own auth events; key events (6002, 6003) are the shared TokenLog's, as the gateway logs them too.</summary>
internal static partial class AuthLog
{
    public const string Category = "Switchboard.Silo.Auth";

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Dev tokens are on (environment {Environment}): POST /api/dev/token mints a token, admin included, for anyone who asks. Never in production")]
    public static partial void DevTokensOn(ILogger logger, string environment);
}
