using Orleans.Placement;
using Switchboard.Conversations;
using Switchboard.Messaging;

namespace Switchboard.Grains.Conversations;

/// <summary>
/// Sequencer of one direct conversation. Placed where it is first called, which is the sender's user grain,
/// itself placed where the sender's socket is: the common path stays on one silo until the recipient's.
/// </summary>
[PreferLocalPlacement]
internal sealed class DirectConversationGrain(IMessageLog log, TimeProvider time) : Grain, IDirectConversationGrain
{
    private ConversationSequencer? _sequencer;

    private ConversationId Conversation => ConversationId.TryParse(this.GetPrimaryKeyString(), out var id)
        ? id
        : throw new InvalidOperationException($"'{this.GetPrimaryKeyString()}' is not a direct conversation id.");

    private ConversationSequencer Sequencer => _sequencer ??= new ConversationSequencer(Conversation, log, time);

    public async Task<StoredMessage> AppendAsync(SendCommand command)
    {
        var conversation = Conversation;
        if (command.To.IsGroup || !conversation.HasParticipant(command.Sender.User) || !conversation.HasParticipant(command.To.User))
        {
            throw SwitchboardException.BadRequest($"{command.To} is not the other participant of {conversation}.");
        }

        var message = await Sequencer.AppendAsync(command);
        var delivery = new Delivery(conversation, message.Seq, message.From, command.Origin, MessageFrame.Serialize(message));

        // One-way: the ack waits for the log, not for the recipient's sockets.
        _ = GrainFactory.GetUserGrain(command.To.User).DeliverAsync(delivery);
        return message;
    }

    public async Task<long> GetLatestSeqAsync() => await Sequencer.GetLatestSeqAsync();
}
