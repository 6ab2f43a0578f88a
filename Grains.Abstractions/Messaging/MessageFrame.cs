using System.Buffers;
using System.Text.Json;

namespace Switchboard.Messaging;

/// <summary>The wire form of a <c>message</c> frame (PROTOCOL.md), written once per message.</summary>
public static class MessageFrame
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>Serializes <paramref name="message"/> as a complete UTF-8 <c>message</c> frame.</summary>
    public static byte[] Serialize(StoredMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + message.Body.Length);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, message);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes <paramref name="message"/> as a JSON object (as on the socket, <c>type</c> included).</summary>
    public static void Write(Utf8JsonWriter writer, StoredMessage message)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "message"u8);
        writer.WriteString("conversation"u8, message.Conversation.Value);
        writer.WriteNumber("seq"u8, message.Seq);
        writer.WriteString("from"u8, message.From.Value);
        writer.WriteString("to"u8, message.To.Value);
        writer.WriteString("id"u8, message.RequestId);
        writer.WritePropertyName("body"u8);
        writer.WriteRawValue(message.Body, skipInputValidation: true);
        writer.WriteString("ts"u8, FormatTimestamp(message.Timestamp));
        writer.WriteEndObject();
    }

    /// <summary>ISO 8601 UTC with milliseconds, e.g. <c>2026-11-25T15:01:40.123Z</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset timestamp) =>
        timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
