using System.Runtime.CompilerServices;
using Switchboard.Messaging;

namespace Switchboard.Grains.Conversations;

/// <summary>
/// Calls into the message log from grains. Provider exceptions (MySqlException and the like) may not cross
/// silos; the caller gets <c>unavailable</c>, which tells a client to retry with the same id. A
/// <see cref="DuplicateRequestException"/> is an answer, not a failure: it passes through.
/// </summary>
internal static class MessageLogCalls
{
    public static async ValueTask<T> GuardAsync<T>(Func<ValueTask<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception exception) when (exception is not SwitchboardException and not DuplicateRequestException)
        {
            throw Unavailable(exception);
        }
    }

    /// <summary>
    /// The append path's guard: the call gets its state as an argument (a static lambda: no closure) and, when it
    /// completed at once, no async frame is made; otherwise it is awaited in a pooled one.
    /// </summary>
    public static ValueTask GuardAsync<TState>(Func<TState, ValueTask> call, TState state)
    {
        ValueTask pending;
        try
        {
            pending = call(state);
        }
        catch (Exception exception)
        {
            pending = ValueTask.FromException(exception);
        }

        return pending.IsCompletedSuccessfully ? default : AwaitGuardedAsync(pending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitGuardedAsync(ValueTask pending)
    {
        try
        {
            await pending;
        }
        catch (Exception exception) when (exception is not SwitchboardException and not DuplicateRequestException)
        {
            throw Unavailable(exception);
        }
    }

    /// <summary>Appends <paramref name="message"/> through the append path's guard, in a span when traces are recorded.</summary>
    public static ValueTask AppendAsync(IMessageLog log, StoredMessage message) =>
        MessageLogTracing.Source.HasListeners()
            ? AppendTracedAsync(log, message)
            : GuardAsync(static s => s.log.AppendAsync(s.message), (log, message));

    // Async on purpose: the span becomes Activity.Current only inside this frame, so the caller's current span is
    // its own again once the append is done.
    private static async ValueTask AppendTracedAsync(IMessageLog log, StoredMessage message)
    {
        using var activity = MessageLogTracing.StartAppend(message);
        try
        {
            await GuardAsync(static s => s.log.AppendAsync(s.message), (log, message));
        }
        catch (Exception exception) when (exception is not DuplicateRequestException)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, exception.GetType().Name);
            throw;
        }
    }

    /// <summary>
    /// Whether a failed append leaves its seq in doubt. A refused duplicate does not: the log refused the whole row
    /// and the seq stays free. Any other failure may have landed or not, so a sequencer reads the latest seq back
    /// before its next append.
    /// </summary>
    public static bool LeavesSeqInDoubt(Exception exception) => exception is not DuplicateRequestException;

    private static SwitchboardException Unavailable(Exception exception) => exception is MessageLogFullException
        ? SwitchboardException.Unavailable("The message log is overloaded; retry with the same id in a second.")
        : SwitchboardException.Unavailable("The message log is unavailable; retry with the same id.", new Exception(exception.Message));
}
