using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Switchboard.Persistence.MariaDb;

/// <summary>
/// Deletes messages past the retention period, periodically. Every silo ticks, one sweeps at a time (the others find
/// the lock taken and skip), and the cutoff comes from the database's clock (see <see cref="MariaDbMessageLog.SweepAsync"/>).
/// </summary>
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
                    var result = await log.SweepAsync(stoppingToken);
                    switch (result.Outcome)
                    {
                        case SweepOutcome.Swept when result.Deleted > 0:
                            LogSwept(logger, result.Deleted);
                            break;
                        case SweepOutcome.Refused:
                            LogSweepRefused(logger, result.Expired, result.Total, options.Value.RetentionMaxSweepFraction);
                            break;
                        case SweepOutcome.Busy:
                            LogSweepBusy(logger);
                            break;
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

    [LoggerMessage(EventId = 4012, Level = LogLevel.Error, Message =
        "Retention sweep refused: {Expired} of {Total} messages are past the retention by the database's clock, more than " +
        "Switchboard:MessageLog:RetentionMaxSweepFraction ({Fraction}) allows. Nothing was deleted. Check the database's " +
        "clock and Switchboard:MessageLog:Retention; if the cut is meant, raise the fraction for one sweep")]
    private static partial void LogSweepRefused(ILogger logger, long expired, long total, double fraction);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Debug, Message = "Retention: another silo is sweeping; skipped this period")]
    private static partial void LogSweepBusy(ILogger logger);
}
