using System.Text.Json;
using System.Text.Json.Serialization;

namespace Switchboard.Cli.Client;

/// <summary>
/// The frames of docs/protocol.md, written for this client alone (it shares no code with the server): a server frame
/// is read into one record whose fields are null when that frame type has none; unknown fields are ignored.
/// </summary>
public sealed record ServerFrame
{
    public string Type { get; init; } = "";

    public string? Id { get; init; }

    // welcome
    public string? User { get; init; }

    public string? Connection { get; init; }

    public string? Node { get; init; }

    public string? Epoch { get; init; }

    // ack (send, resume) and message
    public string? Conversation { get; init; }

    public long? Seq { get; init; }

    public bool? Recovered { get; init; }

    public bool? More { get; init; }

    public string? From { get; init; }

    public string? To { get; init; }

    public JsonElement? Body { get; init; }

    public string? Ts { get; init; }

    // 1.1: the ack of a read (the stored marker)
    public long? Read { get; init; }

    // 1.1: deleted (who deleted it) and a message that was deleted (body null)
    public string? By { get; init; }

    public bool? Deleted { get; init; }

    // error
    public string? Code { get; init; }

    public string? Message { get; init; }

    /// <summary>The frame as it came: what <c>--json</c> prints for messages, byte for byte.</summary>
    [JsonIgnore]
    public string Raw { get; init; } = "";

    public static ServerFrame Parse(string text)
    {
        var frame = JsonSerializer.Deserialize(text, CliJson.Default.ServerFrame)
            ?? throw new CliError(ExitCodes.ConnectionCode, "The server sent a frame that is not a JSON object.");
        return frame with { Raw = text };
    }
}

public sealed record SendFrame(string Id, string To, JsonElement Body)
{
    public string Type => "send";
}

public sealed record ResumeFrame(string Id, IReadOnlyDictionary<string, long> Since)
{
    public string Type => "resume";
}

/// <summary>1.1: replace the socket's token before it expires.</summary>
public sealed record AuthFrame(string Id, string Token)
{
    public string Type => "auth";
}

/// <summary>1.1: the user has read <c>conversation</c> up to <c>seq</c>; the ack says the stored marker.</summary>
public sealed record ReadFrame(string Id, string Conversation, long Seq)
{
    public string Type => "read";
}

/// <summary>1.1: the user is typing; no id, no reply.</summary>
public sealed record TypingFrame(string Conversation)
{
    public string Type => "typing";
}

public sealed record PingFrame(string Id)
{
    public string Type => "ping";
}

/// <summary>One entry of <c>GET /api/users/{id}/conversations</c>; <c>read</c> and <c>unread</c> are 1.1 (0 from an older server).</summary>
public sealed record ConversationSeq(string Conversation, long Seq, long Read = 0, long Unread = 0);

/// <summary>1.1: <c>GET /api/conversations/{c}/receipts?seq=n</c>.</summary>
public sealed record Receipts(string Conversation, long Seq, int Members, int ReadBy, IReadOnlyList<string> Read, IReadOnlyList<string> Unread, bool Truncated);

public sealed record GroupMember(string User, string Role);

/// <summary>A mute in force; <c>until</c> null means until unmuted (so written as null, not left out).</summary>
public sealed record GroupMute(string User, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Until);

public sealed record GroupBan(string User);

/// <summary>
/// A group as <c>GET /api/groups/{id}</c> returns it; <c>members</c> only for those who may read it, <c>mutes</c> and
/// <c>bans</c> (1.1) only for its owners and admins.
/// </summary>
public sealed record GroupView(string Id, string Policy, IReadOnlyList<GroupMember>? Members, IReadOnlyList<GroupMute>? Mutes = null, IReadOnlyList<GroupBan>? Bans = null);

/// <summary>The body of <c>PUT /api/groups/{id}/mutes/{user}</c>: <c>{}</c> (until unmuted) when <c>until</c> is null.</summary>
public sealed record MuteRequest(string? Until);

/// <summary>The body <c>{}</c> of <c>PUT /api/groups/{id}/bans/{user}</c>.</summary>
public sealed record EmptyRequest;

/// <summary>What <c>group mute|unmute|ban|unban --json</c> prints: the change, named in full (the server's 204s have no body).</summary>
public sealed record ModerationResult(string Group, string User, string Action, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Until = null);

/// <summary>What <c>delete --json</c> prints (the server answers 204 with no body).</summary>
public sealed record MessageDeleted(string Conversation, long Seq)
{
    public bool Deleted => true;
}

public sealed record Presence(string User, bool Online, int Connections);

/// <summary>The reply of <c>POST /api/messages</c>.</summary>
public sealed record SendReceipt(string Conversation, long Seq, string? Id);

public sealed record TokenReply(string Token);

public sealed record TokenRequest(string User, string Role);

public sealed record PolicyRequest(string Policy);

public sealed record RoleRequest(string Role);

/// <summary>What <c>group remove --json</c> prints (the server answers 204 with no body).</summary>
public sealed record MemberRemoved(string Group, string User)
{
    public bool Removed => true;
}

/// <summary>RFC 7807 problem details with the protocol's <c>code</c> extension.</summary>
public sealed record Problem(string? Title, string? Detail, string? Code);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServerFrame))]
[JsonSerializable(typeof(SendFrame))]
[JsonSerializable(typeof(ResumeFrame))]
[JsonSerializable(typeof(AuthFrame))]
[JsonSerializable(typeof(ReadFrame))]
[JsonSerializable(typeof(TypingFrame))]
[JsonSerializable(typeof(PingFrame))]
[JsonSerializable(typeof(Receipts))]
[JsonSerializable(typeof(GroupMute))]
[JsonSerializable(typeof(MuteRequest))]
[JsonSerializable(typeof(EmptyRequest))]
[JsonSerializable(typeof(ModerationResult))]
[JsonSerializable(typeof(MessageDeleted))]
[JsonSerializable(typeof(List<ConversationSeq>))]
[JsonSerializable(typeof(List<ServerFrame>))]
[JsonSerializable(typeof(GroupView))]
[JsonSerializable(typeof(Presence))]
[JsonSerializable(typeof(SendReceipt))]
[JsonSerializable(typeof(TokenReply))]
[JsonSerializable(typeof(TokenRequest))]
[JsonSerializable(typeof(PolicyRequest))]
[JsonSerializable(typeof(RoleRequest))]
[JsonSerializable(typeof(Problem))]
[JsonSerializable(typeof(Output.ErrorLine))]
[JsonSerializable(typeof(MemberRemoved))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
public sealed partial class CliJson : JsonSerializerContext;
