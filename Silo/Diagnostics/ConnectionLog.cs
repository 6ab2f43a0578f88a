namespace Switchboard.Silo.Diagnostics;

internal static partial class ConnectionLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Detaching a connection from its user grain failed; the registration will expire")]
    public static partial void DetachFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Renewing this silo's registrations failed; retrying next period")]
    public static partial void RenewalFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Connection {Connection} of {User} opened (role {Role}) from {RemoteAddress}")]
    public static partial void Opened(ILogger logger, string connection, string user, string role, string remoteAddress);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Connection {Connection} of {User} closed: {CloseStatus} {Reason}")]
    public static partial void Closed(ILogger logger, string connection, string user, int closeStatus, string reason);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Connection {Connection} of {User} refused: {Reason}")]
    public static partial void Refused(ILogger logger, string connection, string user, string reason);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Error, Message = "Connection {Connection}: request {Type} failed unexpectedly")]
    public static partial void RequestFailed(ILogger logger, string connection, string type, Exception exception);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Warning, Message = "Connection {Connection} of {User} is too slow: outbound queue full, closing with 4008")]
    public static partial void TooSlow(ILogger logger, string connection, string user);

    [LoggerMessage(EventId = 3015, Level = LogLevel.Information, Message = "Draining: closing {Count} sockets with 1012")]
    public static partial void Draining(ILogger logger, int count);

    [LoggerMessage(EventId = 3017, Level = LogLevel.Warning, Message = "Draining: {Count} sockets still open after the drain timeout; the silo stops anyway")]
    public static partial void DrainIncomplete(ILogger logger, int count);

    [LoggerMessage(EventId = 3018, Level = LogLevel.Warning, Message = "Silo(s) {Silos} declared dead: re-announcing {Users} local users and their groups")]
    public static partial void ReannouncingAfterSiloDeath(ILogger logger, string silos, int users);

    [LoggerMessage(EventId = 3019, Level = LogLevel.Warning, Message = "Connection {Connection}: request {Type} answered 'unavailable' ({Exception}: {Reason})")]
    public static partial void RequestUnavailable(ILogger logger, string connection, string type, string exception, string reason);

    [LoggerMessage(EventId = 3016, Level = LogLevel.Debug, Message = "Connection {Connection}: socket loop ended with an error")]
    public static partial void SocketError(ILogger logger, string connection, Exception exception);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Debug, Message = "A /ws upgrade was handed to HTTP after its registration failed ({Exception}: {Reason})")]
    public static partial void UpgradeHandedToHttp(ILogger logger, string exception, string reason);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Information, Message = "Closed {Count} sockets of {User} with 4003: their tokens were revoked")]
    public static partial void RevokedSocketsClosed(ILogger logger, string user, int count);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "Syncing the token revocations failed; retrying")]
    public static partial void RevocationSyncFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3023, Level = LogLevel.Information, Message = "Connection {Connection} of {User} refreshed its token (role {Role})")]
    public static partial void TokenRefreshed(ILogger logger, string connection, string user, string role);
}
