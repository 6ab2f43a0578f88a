using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>Deleting a message erases its body from MariaDB itself (migration 006), not just from what readers see.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class MessageDeletionStorageTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task An_erased_message_has_no_body_in_its_row_and_reads_back_deleted_in_its_place()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await using var log = new MariaDbMessageLog(
            Options.Create(new MessageLogOptions { ConnectionString = cluster.ConnectionString, Writers = 1 }), NullLogger<MariaDbMessageLog>.Instance);
        var group = ConversationId.ForGroup(new GroupId($"g-{Guid.NewGuid():N}"));
        Recipient.TryParse(group.Value, out var to);
        for (var seq = 1; seq <= 3; seq++)
        {
            await log.AppendAsync(new StoredMessage(group, seq, new UserId($"u{seq}"), to, $"r-{seq}-{group.Value}", Encoding.UTF8.GetBytes($"\"secret {seq}\""), DateTimeOffset.UtcNow));
        }

        Assert.True(await log.EraseAsync(group, 2));
        Assert.True(await log.EraseAsync(group, 2));
        Assert.False(await log.EraseAsync(group, 4));

        var row = await fixture.MariaDb.QueryAsync(cluster.Database,
            $"SELECT seq, sender, body IS NULL, deleted FROM sb_messages WHERE conversation = '{group.Value}' ORDER BY seq");
        Assert.Equal("1\tu1\t0\t0\n2\tu2\t1\t1\n3\tu3\t0\t0", row.Trim());
        var bodies = await fixture.MariaDb.QueryAsync(cluster.Database, $"SELECT COUNT(*) FROM sb_messages WHERE conversation = '{group.Value}' AND body LIKE '%secret 2%'");
        Assert.Equal("0", bodies.Trim());

        var page = await log.ReadAsync(group, 0, 10, long.MaxValue);
        Assert.Equal([1L, 2L, 3L], page.Messages.Select(m => m.Seq));
        Assert.True(page.Messages[1].Deleted);
        Assert.Empty(page.Messages[1].Body);
        Assert.False(page.Messages[0].Deleted);
        Assert.Equal("\"secret 3\"", Encoding.UTF8.GetString(page.Messages[2].Body));
        Assert.Equal(new UserId("u2"), await log.FindSenderAsync(group, 2));
        Assert.Null(await log.FindSenderAsync(group, 4));
        Assert.Equal(3, await log.GetLatestSeqAsync(group));
    }
}
