using Microsoft.AspNetCore.Http.HttpResults;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Silo.Endpoints;

/// <summary><c>GET /api/conversations/{conversation}/receipts?seq=n</c>: who of a conversation's participants has read a message.</summary>
public static class ReceiptsApi
{
    /// <summary>Each name list stops at this many names; the counts stay exact.</summary>
    public const int MostNames = 1000;

    public static IEndpointRouteBuilder MapReceiptsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup("/api").RequireAuthorization().WithProblemDetails()
            .MapGet("/conversations/{conversation}/receipts", GetReceiptsAsync);
        return endpoints;
    }

    private static async Task<Ok<ReceiptsReply>> GetReceiptsAsync(
        HttpContext context,
        string conversation,
        long? seq,
        IGrainFactory grains,
        IMessageLog log,
        IReadMarkers markers)
    {
        var caller = MessagingApi.Caller(context.User);
        if (!ConversationId.TryParse(conversation, out var id))
        {
            throw SwitchboardException.BadRequest("The conversation must be dm:<user>:<user> or group:<id>.");
        }

        if (seq is not > 0)
        {
            throw SwitchboardException.BadRequest("'seq' is required: the seq of a message, 1 or more.");
        }

        var at = seq.Value;
        IReadOnlyList<UserId> participants;
        if (id.IsGroup)
        {
            var group = await grains.GetGroupGrain(id.Group).GetAsync();
            var manager = caller.IsAdmin || group.Members.Any(m => m.User == caller.User && m.Role == Groups.GroupRole.Owner);
            var message = await StorageAsync(() => log.ReadAsync(id, at - 1, 1, 1));
            var found = message.Messages.Count > 0 && message.Messages[0].Seq == at;

            // Told apart only for those allowed: anyone else learns nothing of the group's messages from the answer.
            if (!manager && !(found && message.Messages[0].From == caller.User))
            {
                throw SwitchboardException.Forbidden($"Receipts of {id} are for the message's sender, the group's owners and admins.");
            }

            if (!found)
            {
                throw SwitchboardException.BadRequest($"{id} has no message {at}.");
            }

            participants = [.. group.Members.Select(m => m.User)];
        }
        else
        {
            if (!id.HasParticipant(caller.User))
            {
                throw SwitchboardException.Forbidden($"Receipts of {id} are for its two participants.");
            }

            if (at > await StorageAsync(() => log.GetLatestSeqAsync(id)))
            {
                throw SwitchboardException.BadRequest($"{id} has no message {at}.");
            }

            var (first, second) = id.Participants;
            participants = first == second ? [first] : [first, second];
        }

        var readers = (await StorageAsync(() => markers.GetReadersAsync(id, at))).ToHashSet();
        var read = new List<string>();
        var unread = new List<string>();
        var readBy = 0;
        foreach (var user in participants.Select(u => u.Value).Order(StringComparer.Ordinal))
        {
            if (readers.Contains(new UserId(user)))
            {
                readBy++;
                Add(read, user);
            }
            else
            {
                Add(unread, user);
            }
        }

        var truncated = readBy > MostNames || participants.Count - readBy > MostNames;
        return TypedResults.Ok(new ReceiptsReply(id.Value, at, participants.Count, readBy, read, unread, truncated));
    }

    private static void Add(List<string> names, string user)
    {
        if (names.Count < MostNames)
        {
            names.Add(user);
        }
    }

    private static async Task<T> StorageAsync<T>(Func<ValueTask<T>> call)
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

    /// <param name="Members">How many participants the conversation has now.</param>
    /// <param name="ReadBy">How many of them have read message <paramref name="Seq"/>.</param>
    /// <param name="Read">Their names, in ordinal order, at most <see cref="MostNames"/>.</param>
    /// <param name="Unread">The others' names, likewise.</param>
    /// <param name="Truncated">True when a name list stopped at <see cref="MostNames"/> (the counts are exact).</param>
    public sealed record ReceiptsReply(string Conversation, long Seq, int Members, int ReadBy, IReadOnlyList<string> Read, IReadOnlyList<string> Unread, bool Truncated);
}
