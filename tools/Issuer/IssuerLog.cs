namespace Switchboard.Issuer;

/// <summary>The issuer's log events (9100-9199). Tokens are never logged.</summary>
internal static partial class IssuerLog
{
    public const string Category = "Switchboard.Issuer";

    [LoggerMessage(EventId = 9101, Level = LogLevel.Warning, Message = "Development token issuer on {Addresses} (iss {Issuer}): it mints a token, admin included, for anyone who asks. Never in production")]
    public static partial void Listening(ILogger logger, string addresses, string issuer);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Information, Message = "Signing key {KeyId} read from {Path}")]
    public static partial void KeyRead(ILogger logger, string keyId, string path);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Information, Message = "Signing key {KeyId} made and written to {Path}")]
    public static partial void KeyWritten(ILogger logger, string keyId, string path);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Warning, Message = "Signing key {KeyId} made in memory (no Switchboard:Issuer:KeyPath): its tokens die with this process")]
    public static partial void KeyInMemory(ILogger logger, string keyId);

    [LoggerMessage(EventId = 9105, Level = LogLevel.Information, Message = "Issued a {Role} token valid for {Lifetime}")]
    public static partial void Issued(ILogger logger, string role, TimeSpan lifetime);

    [LoggerMessage(EventId = 9106, Level = LogLevel.Critical, Message = "Refusing to run: it listens on {Address}, which is not loopback")]
    public static partial void NotLoopback(ILogger logger, string address);
}
