namespace Switchboard.Silo.Diagnostics;

internal static partial class AuthLog
{
    public const string Category = "Switchboard.Silo.Auth";

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Dev tokens are on (environment {Environment}): POST /api/dev/token mints a token, admin included, for anyone who asks. Never in production")]
    public static partial void DevTokensOn(ILogger logger, string environment);
}
