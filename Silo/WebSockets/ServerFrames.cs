using System.Text.Json;
using Switchboard.Conversations;
using Switchboard.Messaging;

namespace Switchboard.Silo.WebSockets;

/// <summary>The server's frames, written with <see cref="Utf8JsonWriter"/> on a per-thread buffer (<see cref="FrameBuffer"/>).</summary>
public static class ServerFrames
{
    public static byte[] Welcome(string user, string connection, string node, string epoch) => Write((user, connection, node, epoch), static (w, s) =>
    {
        w.WriteString("type"u8, "welcome"u8);
        w.WriteString("user"u8, s.user);
        w.WriteString("connection"u8, s.connection);
        w.WriteString("node"u8, s.node);
        w.WriteString("epoch"u8, s.epoch);
        w.WriteString("protocol"u8, "1.1"u8);
    });

    public static byte[] Ack(string id) => Write(id, static (w, id) =>
    {
        w.WriteString("type"u8, "ack"u8);
        w.WriteString("id"u8, id);
    });

    public static byte[] SendAck(string id, ConversationId conversation, long seq) => Write((id, conversation, seq), static (w, s) =>
    {
        w.WriteString("type"u8, "ack"u8);
        w.WriteString("id"u8, s.id);
        w.WriteString("conversation"u8, s.conversation.Value);
        w.WriteNumber("seq"u8, s.seq);
    });

    public static byte[] ResumeAck(string id, bool recovered, bool more) => Write((id, recovered, more), static (w, s) =>
    {
        w.WriteString("type"u8, "ack"u8);
        w.WriteString("id"u8, s.id);
        w.WriteBoolean("recovered"u8, s.recovered);
        w.WriteBoolean("more"u8, s.more);
    });

    /// <summary>The ack of a <c>read</c>: the stored marker, which may be ahead of the one asked.</summary>
    public static byte[] ReadAck(string id, ConversationId conversation, long read) => Write((id, conversation, read), static (w, s) =>
    {
        w.WriteString("type"u8, "ack"u8);
        w.WriteString("id"u8, s.id);
        w.WriteString("conversation"u8, s.conversation.Value);
        w.WriteNumber("read"u8, s.read);
    });

    public static byte[] Pong(string id) => Write(id, static (w, id) =>
    {
        w.WriteString("type"u8, "pong"u8);
        w.WriteString("id"u8, id);
    });

    public static byte[] Error(string? id, ProtocolError code, string message) => Write((id, code, message), static (w, s) =>
    {
        w.WriteString("type"u8, "error"u8);
        if (s.id is null)
        {
            w.WriteNull("id"u8);
        }
        else
        {
            w.WriteString("id"u8, s.id);
        }

        w.WriteString("code"u8, s.code.ToWire());
        w.WriteString("message"u8, s.message);
    });

    /// <summary>One JSON object: <paramref name="body"/> writes its properties.</summary>
    private static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> body) => FrameBuffer.Write((state, body), static (w, s) =>
    {
        w.WriteStartObject();
        s.body(w, s.state);
        w.WriteEndObject();
    });
}
