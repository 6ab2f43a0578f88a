using Microsoft.AspNetCore.Http.HttpResults;
using Switchboard.Messaging;

namespace Switchboard.Silo.Endpoints;

/// <summary>Presence and conversation lists.</summary>
public static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/users/{id}").RequireAuthorization().WithProblemDetails();
        api.MapGet("/presence", GetPresenceAsync);
        api.MapGet("/conversations", GetConversationsAsync);
        return endpoints;
    }

    private static async Task<Ok<PresenceReply>> GetPresenceAsync(HttpContext context, string id, IGrainFactory grains)
    {
        MessagingApi.Caller(context.User);
        var presence = await grains.GetUserGrain(GroupsApi.ParseUser(id)).GetPresenceAsync();
        return TypedResults.Ok(new PresenceReply(presence.User.Value, presence.Online, presence.Connections));
    }

    private static async Task<Ok<ConversationReply[]>> GetConversationsAsync(HttpContext context, string id, IGrainFactory grains)
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

    public sealed record PresenceReply(string User, bool Online, int Connections);

    public sealed record ConversationReply(string Conversation, long Seq);
}
