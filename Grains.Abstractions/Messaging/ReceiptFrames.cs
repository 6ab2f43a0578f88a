using Switchboard.Conversations;
using Switchboard.Identity;

namespace Switchboard.Messaging;

/// <summary>The wire forms of the live <c>read</c> and <c>typing</c> frames (docs/protocol.md, 1.1), written once where they start.</summary>
public static class ReceiptFrames
{
    /// <summary><c>{"type":"read","conversation":…,"user":…,"seq":…}</c>: <paramref name="user"/>'s marker moved to <paramref name="seq"/>.</summary>
    public static byte[] Read(ConversationId conversation, UserId user, long seq) => FrameBuffer.Write((conversation, user, seq), static (w, s) =>
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "read"u8);
        w.WriteString("conversation"u8, s.conversation.Value);
        w.WriteString("user"u8, s.user.Value);
        w.WriteNumber("seq"u8, s.seq);
        w.WriteEndObject();
    });

    /// <summary><c>{"type":"typing","conversation":…,"user":…}</c>.</summary>
    public static byte[] Typing(ConversationId conversation, UserId user) => FrameBuffer.Write((conversation, user), static (w, s) =>
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "typing"u8);
        w.WriteString("conversation"u8, s.conversation.Value);
        w.WriteString("user"u8, s.user.Value);
        w.WriteEndObject();
    });
}
