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
            throw SwitchboardException.Unavailable("The message log is unavailable; retry with the same id.", new Exception(exception.Message));
        }
    }

    public static ValueTask<int> GuardAsync(Func<ValueTask> call) => GuardAsync(async () =>
    {
        await call();
        return 0;
    });
}
