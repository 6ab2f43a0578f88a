using Microsoft.Extensions.Logging;

namespace Switchboard.Cluster.Security;

internal static partial class InternalTlsLog
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Information,
        Message = "Internal TLS on: certificate {Subject} (SHA-256 {Fingerprint}) valid until {NotAfter:u}; peers checked against {Authorities} CA certificate(s) and {Pins} pin(s)")]
    public static partial void On(ILogger logger, string subject, string fingerprint, DateTime notAfter, int authorities, int pins);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning,
        Message = "Internal TLS certificate {Subject} expires {NotAfter:u}, in {Days} days: renew it (issue a new one from the same CA, replace the files, restart)")]
    public static partial void ExpiresSoon(ILogger logger, string subject, DateTime notAfter, int days);
}
