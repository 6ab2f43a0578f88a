using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations.MariaDb;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>The MariaDB message log against a real server and the project's schema.</summary>
[Collection(DurableClusterCollection.Name)]
public sealed class MariaDbMessageLogTests(DurableClusterFixture fixture)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private async Task<(MariaDbMessageLog Log, DurableCluster Cluster)> CreateAsync()
    {
        var cluster = await fixture.CreateClusterAsync();
        var options = Options.Create(new MessageLogOptions { ConnectionString = cluster.ConnectionString, MaxBatch = 64, Writers = 2, Retention = TimeSpan.FromDays(1) });
        return (new MariaDbMessageLog(options, NullLogger<MariaDbMessageLog>.Instance), cluster);
    }

    private static StoredMessage Message(ConversationId conversation, long seq, string from, string requestId, DateTimeOffset? at = null)
    {
        Recipient.TryParse(conversation.IsGroup ? conversation.Value : $"user:{OtherThan(conversation, from)}", out var to);
        return new StoredMessage(conversation, seq, new UserId(from), to, requestId, Encoding.UTF8.GetBytes($"{{\"n\":{seq}}}"), at ?? Now);
    }

    private static string OtherThan(ConversationId conversation, string user)
    {
        var (a, b) = conversation.Participants;
        return a.Value == user ? b.Value : a.Value;
    }

    [Fact]
    public async Task Concurrent_appends_are_group_committed_and_read_back_in_order()
    {
        var (log, cluster) = await CreateAsync();
        await using var _ = log;
        await using var __ = cluster;
        var conversations = Enumerable.Range(0, 50).Select(i => ConversationId.ForGroup(new GroupId($"g{i}"))).ToList();

        // 50 conversations × 20 messages; within a conversation, appends are sequential as the sequencer makes them.
        await Task.WhenAll(conversations.Select(async conversation =>
        {
            for (var seq = 1; seq <= 20; seq++)
            {
                await log.AppendAsync(Message(conversation, seq, "alice", $"{conversation.Value}-{seq}"));
            }
        }));

        foreach (var conversation in conversations)
        {
            Assert.Equal(20, await log.GetLatestSeqAsync(conversation));
        }

        var page = await log.ReadAsync(conversations[0], after: 5, limit: 10);
        Assert.Equal(Enumerable.Range(6, 10).Select(i => (long)i), page.Messages.Select(m => m.Seq));
        Assert.True(page.More);
        Assert.True(page.Complete);
        Assert.Equal("{\"n\":6}", Encoding.UTF8.GetString(page.Messages[0].Body));
        Assert.Equal(Now, page.Messages[0].Timestamp);
    }

    [Fact]
    public async Task A_duplicate_seq_or_request_id_fails_only_that_append()
    {
        var (log, cluster) = await CreateAsync();
        await using var _ = log;
        await using var __ = cluster;
        var conversation = ConversationId.Direct(new UserId("alice"), new UserId("bob"));
        await log.AppendAsync(Message(conversation, 1, "alice", "r1"));

        var duplicateSeq = log.AppendAsync(Message(conversation, 1, "bob", "other")).AsTask();
        var duplicateRequest = log.AppendAsync(Message(conversation, 2, "alice", "r1")).AsTask();
        var fine = log.AppendAsync(Message(ConversationId.ForGroup(new GroupId("x")), 1, "alice", "r2")).AsTask();

        await Assert.ThrowsAnyAsync<Exception>(() => duplicateSeq);
        await Assert.ThrowsAnyAsync<Exception>(() => duplicateRequest);
        await fine;
        Assert.Equal(new SendReceipt(conversation, 1), await log.FindRequestAsync(new UserId("alice"), "r1"));
        Assert.Equal(1, await log.GetLatestSeqAsync(conversation));
    }

    [Fact]
    public async Task Retention_keeps_the_latest_message_and_reports_what_it_dropped()
    {
        var (log, cluster) = await CreateAsync();
        await using var _ = log;
        await using var __ = cluster;
        var conversation = ConversationId.Direct(new UserId("alice"), new UserId("bob"));
        for (var seq = 1; seq <= 5; seq++)
        {
            await log.AppendAsync(Message(conversation, seq, "alice", $"old-{seq}", Now.AddDays(-3)));
        }

        var deleted = await log.SweepAsync(Now, CancellationToken.None);

        Assert.Equal(4, deleted);
        Assert.Equal(5, await log.GetLatestSeqAsync(conversation));
        var fromStart = await log.ReadAsync(conversation, after: 0, limit: 100);
        Assert.False(fromStart.Complete);
        Assert.Equal([5L], fromStart.Messages.Select(m => m.Seq));
        Assert.True((await log.ReadAsync(conversation, after: 4, limit: 100)).Complete);

        // Numbering continues after the sweep: nothing can reuse a seq.
        await log.AppendAsync(Message(conversation, 6, "bob", "new-6"));
        Assert.Equal(6, await log.GetLatestSeqAsync(conversation));
    }

    [Fact]
    public async Task Users_list_their_direct_conversations_and_requested_groups_with_latest_seq()
    {
        var (log, cluster) = await CreateAsync();
        await using var _ = log;
        await using var __ = cluster;
        var alice = new UserId("alice");
        var withBob = ConversationId.Direct(alice, new UserId("bob"));
        var withCarol = ConversationId.Direct(alice, new UserId("carol"));
        var group = ConversationId.ForGroup(new GroupId("maths"));
        var empty = ConversationId.ForGroup(new GroupId("empty"));
        await log.AppendAsync(Message(withBob, 1, "alice", "a1"));
        await log.AppendAsync(Message(withBob, 2, "bob", "b1"));
        await log.AppendAsync(Message(withCarol, 1, "carol", "c1"));
        await log.AppendAsync(Message(group, 1, "dave", "d1"));

        var list = await log.ListConversationsAsync(alice, [group, empty]);

        Assert.Equal(
            new[] { (withBob.Value, 2L), (withCarol.Value, 1L), (empty.Value, 0L), (group.Value, 1L) }.OrderBy(x => x.Item1, StringComparer.Ordinal),
            list.Select(c => (c.Conversation.Value, c.Seq)));
        var recent = await log.GetRecentRequestsAsync(alice, Now.AddHours(-1), 10);
        Assert.Equal(["a1"], recent.Select(r => r.RequestId));
    }
}
