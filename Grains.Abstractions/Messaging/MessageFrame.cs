using System.Globalization;
using System.Text.Json;

namespace Switchboard.Messaging;

/// <summary>The wire form of a <c>message</c> frame (docs/protocol.md), written once per message.</summary>
public static class MessageFrame
{
    /// <summary>Length of <see cref="FormatTimestamp(DateTimeOffset)"/>'s result.</summary>
    public const int TimestampLength = 24;

    private const string TimestampFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'";

    /// <summary>Serializes <paramref name="message"/> as a complete UTF-8 <c>message</c> frame.</summary>
    public static byte[] Serialize(StoredMessage message) => FrameBuffer.Write(message, Write);

    /// <summary>Writes <paramref name="message"/> as a JSON object (as on the socket, <c>type</c> included).</summary>
    public static void Write(Utf8JsonWriter writer, StoredMessage message)
    {
        Span<byte> ts = stackalloc byte[TimestampLength];
        FormatTimestamp(message.Timestamp, ts);
        writer.WriteStartObject();
        writer.WriteString("type"u8, "message"u8);
        writer.WriteString("conversation"u8, message.Conversation.Value);
        writer.WriteNumber("seq"u8, message.Seq);
        writer.WriteString("from"u8, message.From.Value);
        writer.WriteString("to"u8, message.To.Value);
        writer.WriteString("id"u8, message.RequestId);
        if (message.Deleted)
        {
            writer.WriteNull("body"u8);
        }
        else
        {
            writer.WritePropertyName("body"u8);
            writer.WriteRawValue(message.Body, skipInputValidation: true);
        }

        writer.WriteString("ts"u8, ts);
        if (message.Deleted)
        {
            writer.WriteBoolean("deleted"u8, true);
        }

        writer.WriteEndObject();
    }

    /// <summary>Serializes the <c>deleted</c> frame: message <paramref name="seq"/> of <paramref name="conversation"/> was deleted by <paramref name="by"/>.</summary>
    public static byte[] SerializeDeleted(Conversations.ConversationId conversation, long seq, Identity.UserId by) => FrameBuffer.Write((conversation, seq, by), static (w, s) =>
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "deleted"u8);
        w.WriteString("conversation"u8, s.conversation.Value);
        w.WriteNumber("seq"u8, s.seq);
        w.WriteString("by"u8, s.by.Value);
        w.WriteEndObject();
    });

    /// <summary>ISO 8601 UTC with milliseconds, e.g. <c>2026-11-25T15:01:40.123Z</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset timestamp)
    {
        Span<byte> utf8 = stackalloc byte[TimestampLength];
        FormatTimestamp(timestamp, utf8);
        return System.Text.Encoding.ASCII.GetString(utf8);
    }

    /// <summary>Writes <see cref="FormatTimestamp(DateTimeOffset)"/>'s text as ASCII into <paramref name="destination"/> (24 bytes).</summary>
    public static void FormatTimestamp(DateTimeOffset timestamp, Span<byte> destination)
    {
        // The runtime's UTF-8 formatting: no string per frame.
        if (!timestamp.UtcDateTime.TryFormat(destination, out var written, TimestampFormat, CultureInfo.InvariantCulture) || written != TimestampLength)
        {
            throw new ArgumentException($"A timestamp needs {TimestampLength} bytes.", nameof(destination));
        }
    }
}
