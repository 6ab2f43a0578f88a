using Switchboard.Conversations;
using Switchboard.Messaging;

namespace Switchboard.Grains.Conversations;

/// <summary>
/// Numbers one conversation's messages 1, 2, 3, ... and stores each before it is acknowledged. It lives in
/// a non-reentrant grain, so appends run one at a time; a seq is only taken once the log has the message,
/// which is what keeps the numbering gapless when a write fails.
/// </summary>
internal sealed class ConversationSequencer(ConversationId conversation, IMessageLog log, TimeProvider time)
{
    private long _latest = -1;

    public async ValueTask<long> GetLatestSeqAsync()
    {
        if (_latest < 0)
        {
            _latest = await LogCall(() => log.GetLatestSeqAsync(conversation));
        }

        return _latest;
    }

    public async Task<StoredMessage> AppendAsync(SendCommand command)
    {
        var seq = await GetLatestSeqAsync() + 1;
        var message = new StoredMessage(conversation, seq, command.Sender.User, command.To, command.RequestId, command.Body, time.GetUtcNow());
        try
        {
            await LogCall(async () =>
            {
                await log.AppendAsync(message);
                return 0L;
            });
        }
        catch
        {
            // We no longer know whether the write landed: read the truth back on the next append.
            _latest = -1;
            throw;
        }

        _latest = seq;
        return message;
    }

    private static async ValueTask<T> LogCall<T>(Func<ValueTask<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception exception) when (exception is not SwitchboardException)
        {
            // Provider exceptions may not cross silos; the client sees 'unavailable' and retries with its id.
            throw SwitchboardException.Unavailable("The message log is unavailable; retry with the same id.", new Exception(exception.Message));
        }
    }
}
