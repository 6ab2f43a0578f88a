using System.Runtime.CompilerServices;
using Switchboard.Conversations;
using Switchboard.Messaging;

namespace Switchboard.Grains.Conversations;

/// <summary>
/// Numbers one conversation's messages 1, 2, 3, ... and stores each before it is acknowledged. Appends run one
/// at a time (a gate, so reentrant owners are safe too); a seq is only taken once the log has the message,
/// which is what keeps the numbering gapless when a write fails.
/// </summary>
/// <param name="conversation">The conversation.</param>
/// <param name="log">The log.</param>
/// <param name="time">The clock stamping messages.</param>
/// <param name="knownLatest">The latest seq when the owner knows it (0: a conversation known to be empty); -1 reads it from the log.</param>
internal sealed class ConversationSequencer(ConversationId conversation, IMessageLog log, TimeProvider time, long knownLatest = -1)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _latest = knownLatest;

    /// <summary>True while no append is running or waiting.</summary>
    public bool IsIdle => _gate.CurrentCount == 1;

    /// <summary>When the sequencer was last asked to append (for its owner's eviction).</summary>
    public long LastUsed { get; private set; } = time.GetTimestamp();

    public async ValueTask<long> GetLatestSeqAsync()
    {
        if (_latest < 0)
        {
            _latest = await MessageLogCalls.GuardAsync(() => log.GetLatestSeqAsync(conversation));
        }

        return _latest;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<StoredMessage> AppendAsync(SendCommand command)
    {
        LastUsed = time.GetTimestamp();
        await _gate.WaitAsync();
        try
        {
            var seq = await GetLatestSeqAsync() + 1;
            var message = new StoredMessage(conversation, seq, command.Sender.User, command.To, command.RequestId, command.Body, time.GetUtcNow());
            try
            {
                await MessageLogCalls.AppendAsync(log, message);
            }
            catch (Exception exception) when (MessageLogCalls.LeavesSeqInDoubt(exception))
            {
                _latest = -1;
                throw;
            }

            _latest = seq;
            return message;
        }
        finally
        {
            _gate.Release();
        }
    }
}
