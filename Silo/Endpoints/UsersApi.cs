using Microsoft.AspNetCore.Http.HttpResults;
using Switchboard.Messaging;

namespace Switchboard.Silo.Endpoints;

/// <summary>Presence and conversation lists.</summary>
public static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/users/{id}").RequireAuthorization();
        api.MapGet("/presence", GetPresenceAsync);
        api.MapGet("/conversations", GetConversationsAsync);
        return endpoints;
    }

    private static async Task<Results<Ok<PresenceReply>, ProblemHttpResult>> GetPresenceAsync(HttpContext context, string id, IGrainFactory grains)
    {
        try
        {
            MessagingApi.Caller(context.User);
            var presence = await grains.GetUserGrain(GroupsApi.ParseUser(id)).GetPresenceAsync();
            return TypedResults.Ok(new PresenceReply(presence.User.Value, presence.Online, presence.Connections));
        }
        catch (Exception exception)
        {
            return Problems.From(exception);
        }
    }

    private static async Task<Results<Ok<ConversationReply[]>, ProblemHttpResult>> GetConversationsAsync(HttpContext context, string id, IGrainFactory grains)
    {
        try
        {
            var caller = MessagingApi.Caller(context.User);
            var user = GroupsApi.ParseUser(id);
            if (user != caller.User && !caller.IsAdmin)
            {
                throw SwitchboardException.Forbidden("A user's conversations are for that user (or an admin).");
            }

            var list = await grains.GetUserGrain(user).GetConversationsAsync();
            return TypedResults.Ok(list.Select(c => new ConversationReply(c.Conversation.Value, c.Seq)).ToArray());
        }
        catch (Exception exception)
        {
            return Problems.From(exception);
        }
    }

    public sealed record PresenceReply(string User, bool Online, int Connections);

    public sealed record ConversationReply(string Conversation, long Seq);
}
