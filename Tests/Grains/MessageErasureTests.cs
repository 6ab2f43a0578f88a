using System.Text;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>The in-memory log erases a deleted message's body and keeps its place; the frame shows it as deleted.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class MessageErasureTests
{
    [Fact]
    public async Task Erasing_drops_the_body_keeps_the_seq_and_sender_and_is_idempotent()
    {
        var log = new InMemoryMessageLog();
        var group = ConversationId.ForGroup(new GroupId($"g-{Guid.NewGuid():N}"));
        Recipient.TryParse(group.Value, out var to);
        for (var seq = 1; seq <= 2; seq++)
        {
            await log.AppendAsync(new StoredMessage(group, seq, new UserId($"u{seq}"), to, $"r{seq}", Encoding.UTF8.GetBytes("\"secret\""), DateTimeOffset.UnixEpoch));
        }

        Assert.True(await log.EraseAsync(group, 1));
        Assert.True(await log.EraseAsync(group, 1));
        Assert.False(await log.EraseAsync(group, 3));
        Assert.False(await log.EraseAsync(ConversationId.ForGroup(new GroupId("nobody-here")), 1));

        var page = await log.ReadAsync(group, 0, 10, long.MaxValue);
        Assert.Equal([1L, 2L], page.Messages.Select(m => m.Seq));
        Assert.True(page.Messages[0].Deleted);
        Assert.Empty(page.Messages[0].Body);
        Assert.False(page.Messages[1].Deleted);
        Assert.Equal(new UserId("u1"), await log.FindSenderAsync(group, 1));
        Assert.Null(await log.FindSenderAsync(group, 3));
        Assert.Equal(2, await log.GetLatestSeqAsync(group));

        var frame = Encoding.UTF8.GetString(MessageFrame.Serialize(page.Messages[0]));
        Assert.Contains("\"body\":null", frame, StringComparison.Ordinal);
        Assert.EndsWith("\"deleted\":true}", frame, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", frame, StringComparison.Ordinal);
    }

    [Fact]
    public void The_deleted_frame_names_the_conversation_the_seq_and_who_deleted()
    {
        var frame = Encoding.UTF8.GetString(MessageFrame.SerializeDeleted(ConversationId.ForGroup(new GroupId("7b")), 12, new UserId("mrs.smith")));

        Assert.Equal("""{"type":"deleted","conversation":"group:7b","seq":12,"by":"mrs.smith"}""", frame);
    }
}
