namespace Switchboard.Gateway.Diagnostics;

/// <summary>
/// The gateway's log events (5xxx; its token events in the auth range, 601x). No tokens, no query strings, no
/// connection strings.
/// </summary>
public static partial class GatewayLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Connected to Orleans cluster {ClusterId}")]
    public static partial void ClusterConnected(ILogger logger, string clusterId);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Waiting for a silo of the cluster to answer ({Reason}); retrying in the background")]
    public static partial void WaitingForCluster(ILogger logger, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Connecting to the cluster failed for good")]
    public static partial void ClusterConnectFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Destination added: {Name} at {Url}")]
    public static partial void DestinationAdded(ILogger logger, string name, string url);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Information, Message = "Destination removed: {Name} at {Url}")]
    public static partial void DestinationRemoved(ILogger logger, string name, string url);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Warning, Message = "Discovery failed ({Error}: {Detail}); keeping the {Count} last known destinations until it answers again")]
    public static partial void DiscoveryFailed(ILogger logger, int count, string error, string detail);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Information, Message = "Discovery answers again")]
    public static partial void DiscoveryRecovered(ILogger logger);

    [LoggerMessage(EventId = 5020, Level = LogLevel.Information, Message = "Stopping: aborting {Count} proxied sockets")]
    public static partial void AbortingSockets(ILogger logger, int count);

    [LoggerMessage(EventId = 5021, Level = LogLevel.Information, Message = "Refused a socket from Origin {Origin}")]
    public static partial void OriginRefused(ILogger logger, string origin);

    [LoggerMessage(EventId = 5030, Level = LogLevel.Warning, Message = "Listening on {Url} with a self-signed certificate ({Thumbprint}): for development and tests only")]
    public static partial void SelfSignedCertificate(ILogger logger, string url, string thumbprint);

    [LoggerMessage(EventId = 5031, Level = LogLevel.Information, Message = "Certificate {Path} renewed: new handshakes get {Thumbprint}")]
    public static partial void CertificateRenewed(ILogger logger, string path, string thumbprint);

    [LoggerMessage(EventId = 5032, Level = LogLevel.Warning, Message = "Certificate {Path} changed but cannot be read ({Error}); still serving {Thumbprint}")]
    public static partial void CertificateRenewalFailed(ILogger logger, string path, string error, string thumbprint);

    // Debug: a client over its limit can send thousands a second; the rejections counter is the signal to watch.
    [LoggerMessage(EventId = 5040, Level = LogLevel.Debug, Message = "Refused with 429 from {Address}: over the per-address {Limit} limit")]
    public static partial void LimitRefused(ILogger logger, string address, string limit);

    // Debug: anyone can send bad tokens by the thousand; the unauthorized counter is the signal to watch. The reason is
    // the kind of failure (e.g. SecurityTokenExpiredException), never the token.
    [LoggerMessage(EventId = 6010, Level = LogLevel.Debug, Message = "Refused a socket upgrade from {Address} with 401: {Reason}")]
    public static partial void TokenRefused(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "Token validation is off (Switchboard:Gateway:ValidateTokens=false): every socket upgrade is proxied and only the silos check tokens")]
    public static partial void TokenValidationOff(ILogger logger);
}
