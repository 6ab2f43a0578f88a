using Microsoft.Extensions.Options;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Silo.Conversations;

/// <summary>Who may read a conversation, and reading it: shared by <c>resume</c> and the history endpoint.</summary>
public sealed class ConversationReader(IGrainFactory grainFactory, IMessageLog log, IOptions<HistoryOptions> options)
{
    /// <summary>Throws <c>forbidden</c> (or <c>not_found</c> for an unknown group) unless the caller may read.</summary>
    public async Task AuthorizeAsync(Caller caller, ConversationId conversation)
    {
        if (conversation.IsGroup)
        {
            await grainFactory.GetGroupGrain(conversation.Group).AuthorizeReadAsync(caller);
        }
        else if (!conversation.HasParticipant(caller.User))
        {
            throw SwitchboardException.Forbidden($"Only its participants read {conversation}.");
        }
    }

    /// <summary>
    /// Messages after <paramref name="after"/>, oldest first, at most <paramref name="limit"/> and
    /// <see cref="HistoryOptions.PageMaxBytes"/> of bodies (the first always comes); the caller must be authorized first.
    /// </summary>
    public async Task<HistoryPage> ReadAsync(ConversationId conversation, long after, int limit, CancellationToken cancellationToken)
    {
        try
        {
            return await log.ReadAsync(conversation, after, limit, options.Value.PageMaxBytes, cancellationToken);
        }
        catch (Exception exception) when (exception is not (SwitchboardException or OperationCanceledException))
        {
            throw SwitchboardException.Unavailable("The message log is unavailable; retry.", exception);
        }
    }
}
