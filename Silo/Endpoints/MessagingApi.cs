using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Auth;
using Switchboard.Silo.Conversations;

namespace Switchboard.Silo.Endpoints;

/// <summary><c>POST /api/messages</c>, <c>GET /api/conversations/{id}/messages</c> and deleting one of them.</summary>
public static class MessagingApi
{
    public const int DefaultHistoryLimit = 100;
    public const int MaxHistoryLimit = 1000;

    public static IEndpointRouteBuilder MapMessagingApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api").RequireAuthorization().WithProblemDetails();
        api.MapPost("/messages", SendAsync);
        api.MapGet("/conversations/{conversation}/messages", GetHistoryAsync);
        api.MapDelete("/conversations/{conversation}/messages/{seq}", DeleteMessageAsync);
        return endpoints;
    }

    private static async Task<NoContent> DeleteMessageAsync(HttpContext context, string conversation, string seq, MessageDeletion deletion)
    {
        var caller = Caller(context.User);
        if (!ConversationId.TryParse(conversation, out var id))
        {
            throw SwitchboardException.BadRequest($"'{conversation}' is not a conversation id.");
        }

        // Parsed here, not bound as a long: a bad seq is the protocol's bad_request, not the framework's bare 400.
        if (!long.TryParse(seq, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number < 1)
        {
            throw SwitchboardException.BadRequest("'seq' must be a positive integer.");
        }

        await deletion.DeleteAsync(caller, id, number);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<SendReply>> SendAsync(HttpContext context, IGrainFactory grains)
    {
        var caller = Caller(context.User);
        var body = await RequestBody.ReadAsync(context.Request, context.RequestAborted);
        using var document = RequestBody.ParseObject(body);
        var root = document.RootElement;
        if (!Recipient.TryParse(RequestBody.GetString(root, "to"), out var to))
        {
            throw SwitchboardException.BadRequest("'to' must be user:<id> or group:<id>.");
        }

        if (!root.TryGetProperty("body", out var messageBody))
        {
            throw SwitchboardException.BadRequest("'body' is required (any JSON value).");
        }

        var id = RequestBody.GetString(root, "id") ?? Guid.NewGuid().ToString();
        if (!Identifier.IsValidRequestId(id))
        {
            throw SwitchboardException.BadRequest("'id' must be 1 to 64 characters.");
        }

        var raw = Encoding.UTF8.GetBytes(messageBody.GetRawText());
        var receipt = await grains.GetUserGrain(caller.User).SendAsync(new SendCommand(caller, id, to, raw, Origin: null));
        return TypedResults.Ok(new SendReply(receipt.Conversation.Value, receipt.Seq, id));
    }

    private static async Task<IResult> GetHistoryAsync(
        HttpContext context,
        string conversation,
        long? after,
        int? limit,
        ConversationReader reader)
    {
        var caller = Caller(context.User);
        if (!ConversationId.TryParse(conversation, out var id))
        {
            throw SwitchboardException.BadRequest($"'{conversation}' is not a conversation id.");
        }

        if (after is < 0 || limit is < 1 or > MaxHistoryLimit)
        {
            throw SwitchboardException.BadRequest($"'after' must be at least 0 and 'limit' between 1 and {MaxHistoryLimit}.");
        }

        await reader.AuthorizeAsync(caller, id);
        var page = await reader.ReadAsync(id, after ?? 0, limit ?? DefaultHistoryLimit, context.RequestAborted);
        return new MessageArrayResult(page.Messages);
    }

    internal static Caller Caller(ClaimsPrincipal user) =>
        CallerClaims.TryGetCaller(user, out var caller)
            ? caller
            : throw new SwitchboardException(ProtocolError.Unauthorized, "The token's 'sub' is not a valid user id.");

    public sealed record SendReply(string Conversation, long Seq, string Id);

    /// <summary>
    /// Writes stored messages exactly as the socket's <c>message</c> frames, bodies as their raw JSON, flushing as it
    /// goes: the response never holds a second copy of the whole page.
    /// </summary>
    private sealed class MessageArrayResult(IReadOnlyList<StoredMessage> messages) : IResult
    {
        private const int FlushAt = 32 * 1024;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
            writer.WriteStartArray();
            foreach (var message in messages)
            {
                MessageFrame.Write(writer, message);
                if (writer.BytesPending >= FlushAt)
                {
                    await writer.FlushAsync(httpContext.RequestAborted);
                }
            }

            writer.WriteEndArray();
            await writer.FlushAsync();
        }
    }
}
