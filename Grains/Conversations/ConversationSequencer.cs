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
            _latest = await MessageLogCalls.GuardAsync(() => log.GetLatestSeqAsync(conversation));
        }

        return _latest;
    }

    public async Task<StoredMessage> AppendAsync(SendCommand command)
    {
        var seq = await GetLatestSeqAsync() + 1;
        var message = new StoredMessage(conversation, seq, command.Sender.User, command.To, command.RequestId, command.Body, time.GetUtcNow());
        try
        {
            await MessageLogCalls.GuardAsync(() => log.AppendAsync(message));
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
}
