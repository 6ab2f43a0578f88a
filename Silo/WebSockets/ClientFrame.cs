using System.Text.Json;
using Switchboard.Identity;

namespace Switchboard.Silo.WebSockets;

/// <summary>The request types of docs/protocol.md.</summary>
public enum ClientFrameType
{
    Unknown = 0,
    Send,
    Join,
    Leave,
    Resume,
    Ping,
    Auth,
    Read,
    Typing,
}

/// <summary>One client frame, parsed from its UTF-8 JSON without building a DOM; the body stays raw bytes.</summary>
public sealed class ClientFrame
{
    public ClientFrameType Type { get; private init; }

    public string? TypeName { get; private init; }

    /// <summary>The request id when it is well-formed (1 to 64 characters), else null.</summary>
    public string? Id { get; private init; }

    public string? To { get; private init; }

    public string? Group { get; private init; }

    /// <summary>The new bearer token of an <c>auth</c> frame.</summary>
    public string? Token { get; private init; }

    /// <summary>The raw UTF-8 JSON of <c>body</c>; null when absent.</summary>
    public byte[]? Body { get; private init; }

    /// <summary>The <c>conversation</c> of a <c>read</c> or <c>typing</c> frame.</summary>
    public string? Conversation { get; private init; }

    /// <summary>The <c>seq</c> of a <c>read</c> frame; null when absent or not a non-negative integer.</summary>
    public long? Seq { get; private init; }

    /// <summary>The <c>since</c> map of a resume; null when absent or not an object of integers.</summary>
    public Dictionary<string, long>? Since { get; private init; }

    /// <summary>Why <c>since</c> could not be read, when it was present but malformed.</summary>
    public string? SinceError { get; private init; }

    /// <summary>Parses a complete message. Returns false (with a reason) when it is not a JSON object.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out ClientFrame frame, out string error)
    {
        frame = Empty;
        error = string.Empty;
        string? type = null, id = null, to = null, group = null, token = null, sinceError = null;
        byte[]? body = null;
        Dictionary<string, long>? since = null;
        string? conversation = null;
        long? seq = null;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "A frame must be a JSON object.";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (NameIs(ref reader, "type"u8))
                {
                    type = ReadString(ref reader);
                }
                else if (NameIs(ref reader, "id"u8))
                {
                    id = ReadString(ref reader);
                }
                else if (NameIs(ref reader, "to"u8))
                {
                    to = ReadString(ref reader);
                }
                else if (NameIs(ref reader, "group"u8))
                {
                    group = ReadString(ref reader);
                }
                else if (NameIs(ref reader, "token"u8))
                {
                    token = ReadString(ref reader);
                }
                else if (NameIs(ref reader, "body"u8))
                {
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    body = utf8[start..(int)reader.BytesConsumed].ToArray();
                }
                else if (NameIs(ref reader, "conversation"u8))
                {
                    conversation = ReadString(ref reader);
                }
                else if (NameIs(ref reader, "seq"u8))
                {
                    reader.Read();
                    seq = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= 0 ? value : null;
                    reader.Skip();
                }
                else if (NameIs(ref reader, "since"u8))
                {
                    since = ReadSince(ref reader, out sinceError);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // Anything after the object (a second value, garbage) makes the frame malformed.
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = "A frame must be exactly one JSON object.";
                return false;
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: valid JSON whose strings do not decode (a lone surrogate escape, bad UTF-8).
            error = "The frame is not valid JSON.";
            return false;
        }

        frame = new ClientFrame
        {
            TypeName = type,
            Type = ParseType(type),
            Id = id is not null && Identifier.IsValidRequestId(id) ? id : null,
            To = to,
            Group = group,
            Token = token,
            Body = body,
            Since = since,
            Conversation = conversation,
            Seq = seq,
            SinceError = sinceError,
        };
        return true;
    }

    private static readonly ClientFrame Empty = new();

    private static ClientFrameType ParseType(string? type) => type switch
    {
        "send" => ClientFrameType.Send,
        "join" => ClientFrameType.Join,
        "leave" => ClientFrameType.Leave,
        "resume" => ClientFrameType.Resume,
        "ping" => ClientFrameType.Ping,
        "auth" => ClientFrameType.Auth,
        "read" => ClientFrameType.Read,
        "typing" => ClientFrameType.Typing,
        _ => ClientFrameType.Unknown,
    };

    /// <summary>Compares a property name; a name that does not decode (a lone surrogate escape) matches nothing.</summary>
    private static bool NameIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        try
        {
            return reader.ValueTextEquals(name);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

    private static Dictionary<string, long>? ReadSince(ref Utf8JsonReader reader, out string? error)
    {
        error = null;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            error = "'since' must be an object mapping conversation ids to seq numbers.";
            return null;
        }

        var since = new Dictionary<string, long>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var conversation = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var seq) && seq >= 0)
            {
                since[conversation] = seq;
            }
            else
            {
                reader.Skip();
                error ??= $"'since' of {conversation} must be a whole number of at least 0.";
            }
        }

        return error is null ? since : null;
    }
}
