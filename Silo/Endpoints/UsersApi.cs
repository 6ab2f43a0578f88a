using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Switchboard.Cluster.Security.Tokens;
using Switchboard.Messaging;
using Switchboard.Silo.Auth;
using Switchboard.Users;

namespace Switchboard.Silo.Endpoints;

/// <summary>Presence and conversation lists.</summary>
public static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/users/{id}").RequireAuthorization().WithProblemDetails();
        api.MapGet("/presence", GetPresenceAsync);
        api.MapGet("/conversations", GetConversationsAsync);
        api.MapDelete("/connections", DisconnectAsync).RequireAuthorization(AuthenticationSetup.AdminPolicy);
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
        return TypedResults.Ok(list.Select(c => new ConversationReply(c.Conversation.Value, c.Seq, c.Read, c.Seq - c.Read)).ToArray());
    }

    /// <summary>
    /// An administrator disconnects a user: every token of the user issued before now (to the next whole second, as
    /// <c>iat</c> counts) is refused from here on, on every path, stored durably; the user's open sockets on every
    /// silo close with 4003. Tokens issued afterwards work: the user signs in again.
    /// </summary>
    private static async Task<Ok<DisconnectReply>> DisconnectAsync(string id, IGrainFactory grains, IOptions<AuthOptions> auth, TimeProvider time)
    {
        var user = GroupsApi.ParseUser(id);
        var now = time.GetUtcNow();
        var before = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() + 1);

        // Kept as long as a token issued before it can be valid (the maximum lifetime, and the skew on both ends).
        var keepUntil = before + auth.Value.MaxTokenLifetime + (2 * auth.Value.ClockSkew);
        var outcome = await grains.GetGrain<ITokenRevocationsGrain>(0).RevokeAsync(new TokenRevocation(user, before, keepUntil));
        return TypedResults.Ok(new DisconnectReply(user.Value, outcome.Revocation.Before, outcome.Closed, outcome.Silos, outcome.Unconfirmed));
    }

    public sealed record DisconnectReply(string User, DateTimeOffset RevokedBefore, int Closed, int Silos, int Unconfirmed);

    public sealed record PresenceReply(string User, bool Online, int Connections);

    /// <summary>An entry of a user's list: <c>read</c> is the user's marker (0 when none), <c>unread</c> what follows it.</summary>
    public sealed record ConversationReply(string Conversation, long Seq, long Read, long Unread);
}
