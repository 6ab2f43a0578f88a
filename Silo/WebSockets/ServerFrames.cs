using System.Buffers;
using System.Text.Json;
using Switchboard.Conversations;
using Switchboard.Messaging;

namespace Switchboard.Silo.WebSockets;

/// <summary>The server's frames, written with <see cref="Utf8JsonWriter"/> on a per-thread buffer.</summary>
public static class ServerFrames
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static byte[] Welcome(string user, string connection, string node) => Write(w =>
    {
        w.WriteString("type"u8, "welcome"u8);
        w.WriteString("user"u8, user);
        w.WriteString("connection"u8, connection);
        w.WriteString("node"u8, node);
    });

    public static byte[] Ack(string id) => Write(w =>
    {
        w.WriteString("type"u8, "ack"u8);
        w.WriteString("id"u8, id);
    });

    public static byte[] SendAck(string id, ConversationId conversation, long seq) => Write(w =>
    {
        w.WriteString("type"u8, "ack"u8);
        w.WriteString("id"u8, id);
        w.WriteString("conversation"u8, conversation.Value);
        w.WriteNumber("seq"u8, seq);
    });

    public static byte[] ResumeAck(string id, bool recovered, bool more) => Write(w =>
    {
        w.WriteString("type"u8, "ack"u8);
        w.WriteString("id"u8, id);
        w.WriteBoolean("recovered"u8, recovered);
        w.WriteBoolean("more"u8, more);
    });

    public static byte[] Pong(string id) => Write(w =>
    {
        w.WriteString("type"u8, "pong"u8);
        w.WriteString("id"u8, id);
    });

    public static byte[] Error(string? id, ErrorCode code, string message) => Write(w =>
    {
        w.WriteString("type"u8, "error"u8);
        if (id is null)
        {
            w.WriteNull("id"u8);
        }
        else
        {
            w.WriteString("id"u8, id);
        }

        w.WriteString("code"u8, code.ToWire());
        w.WriteString("message"u8, message);
    });

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        writer.WriteStartObject();
        body(writer);
        writer.WriteEndObject();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
