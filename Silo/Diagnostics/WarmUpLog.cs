namespace Switchboard.Silo.Diagnostics;

internal static partial class WarmUpLog
{
    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Warm-up done in {Milliseconds} ms ({Steps}): the silo reports ready")]
    public static partial void Done(ILogger logger, long milliseconds, string steps);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Warm-up step {Step} failed after {Milliseconds} ms; the others go on")]
    public static partial void StepFailed(ILogger logger, string step, long milliseconds, Exception exception);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "Warm-up gave up after {Milliseconds} ms (Switchboard:WarmUp:Timeout) in step {Step}: the silo reports ready anyway, its first requests may be slow")]
    public static partial void GaveUp(ILogger logger, long milliseconds, string step);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Information, Message = "Warm-up is off (Switchboard:WarmUp:Enabled=false): the silo is ready as soon as it is active")]
    public static partial void Off(ILogger logger);
}
