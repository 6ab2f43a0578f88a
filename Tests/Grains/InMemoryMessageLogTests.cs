using System.Text;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>The in-memory log pages by the same rules as the MariaDB one: rows and bytes, the first message always.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class InMemoryMessageLogTests
{
    [Fact]
    public async Task A_page_stops_before_the_body_that_would_pass_its_byte_budget_but_always_holds_one()
    {
        var log = new InMemoryMessageLog();
        var group = ConversationId.ForGroup(new GroupId($"g-{Guid.NewGuid():N}"));
        Recipient.TryParse(group.Value, out var to);
        for (var seq = 1; seq <= 5; seq++)
        {
            var body = Encoding.UTF8.GetBytes($"\"{new string('x', 998)}\"");
            await log.AppendAsync(new StoredMessage(group, seq, new UserId("alice"), to, $"r{seq}", body, DateTimeOffset.UnixEpoch));
        }

        var two = await log.ReadAsync(group, after: 0, limit: 100, maxBytes: 2999);
        var one = await log.ReadAsync(group, after: 2, limit: 100, maxBytes: 1);
        var byRows = await log.ReadAsync(group, after: 0, limit: 3, maxBytes: long.MaxValue);
        var rest = await log.ReadAsync(group, after: 3, limit: 100, maxBytes: 2000);

        Assert.Equal([1L, 2L], two.Messages.Select(m => m.Seq));
        Assert.True(two.More);
        Assert.Equal([3L], one.Messages.Select(m => m.Seq));
        Assert.True(one.More);
        Assert.Equal([1L, 2L, 3L], byRows.Messages.Select(m => m.Seq));
        Assert.Equal([4L, 5L], rest.Messages.Select(m => m.Seq));
        Assert.False(rest.More);
    }
}
