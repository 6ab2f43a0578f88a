using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Silo.Conversations;

/// <summary>
/// <c>DELETE /api/conversations/{conversation}/messages/{seq}</c>: a group's messages through its grain (which knows
/// its owners and fans out to its silos); a direct message here, by its sender, then to both users' sockets.
/// </summary>
public sealed class MessageDeletion(IGrainFactory grainFactory, IMessageLog log)
{
    /// <summary>Erases the message's body and tells the conversation's open sockets; idempotent.</summary>
    public async Task DeleteAsync(Caller caller, ConversationId conversation, long seq)
    {
        if (conversation.IsGroup)
        {
            await grainFactory.GetGroupGrain(conversation.Group).DeleteMessageAsync(caller, seq);
            return;
        }

        if (!conversation.HasParticipant(caller.User))
        {
            throw SwitchboardException.Forbidden($"Only its participants delete messages of {conversation}.");
        }

        var sender = seq < 1 ? null : await GuardAsync(() => log.FindSenderAsync(conversation, seq));
        if (sender is null)
        {
            throw SwitchboardException.NotFound($"{conversation} has no message {seq}.");
        }

        if (sender != caller.User)
        {
            throw SwitchboardException.Forbidden($"Only its sender deletes a direct message of {conversation}.");
        }

        await GuardAsync(() => log.EraseAsync(conversation, seq));

        // Each user grain writes the frame to its user's sockets on every silo (one-way, like a message).
        var delivery = new Delivery(conversation, seq, caller.User, Exclude: null, MessageFrame.SerializeDeleted(conversation, seq, caller.User));
        var (first, second) = conversation.Participants;
        await grainFactory.GetUserGrain(first).DeliverAsync(delivery);
        if (second != first)
        {
            await grainFactory.GetUserGrain(second).DeliverAsync(delivery);
        }
    }

    private static async Task<T> GuardAsync<T>(Func<ValueTask<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception exception) when (exception is not (SwitchboardException or OperationCanceledException))
        {
            throw SwitchboardException.Unavailable("The message log is unavailable; retry.", exception);
        }
    }
}
