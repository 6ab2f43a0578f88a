using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Switchboard.Persistence.MariaDb;

/// <summary>Deletes messages past the retention period, periodically (every silo sweeps; the work is idempotent).</summary>
public sealed partial class MessageLogRetention(
    MariaDbMessageLog log,
    IOptions<MessageLogOptions> options,
    TimeProvider time,
    ILogger<MessageLogRetention> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RetentionSweepPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var deleted = await log.SweepAsync(time.GetUtcNow(), stoppingToken);
                    if (deleted > 0)
                    {
                        LogSwept(logger, deleted);
                    }
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogSweepFailed(logger, exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Retention: deleted {Count} expired messages")]
    private static partial void LogSwept(ILogger logger, long count);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "Retention sweep failed; retrying next period")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
