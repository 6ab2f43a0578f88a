using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>The MariaDB message log against a real server and the project's schema.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class MariaDbMessageLogTests(DurableClusterFixture fixture)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private async Task<(MariaDbMessageLog Log, DurableCluster Cluster)> CreateAsync()
    {
        var cluster = await fixture.CreateClusterAsync();
        var options = Options.Create(new MessageLogOptions
        {
            ConnectionString = cluster.ConnectionString, MaxBatch = 64, Writers = 2, Retention = TimeSpan.FromDays(1), RetentionMaxSweepFraction = 1,
        });
        return (new MariaDbMessageLog(options, NullLogger<MariaDbMessageLog>.Instance), cluster);
    }

    /// <summary>
    /// One writer, which holds its connection: every commit, and the retry and append after a failed one, runs on the
    /// same server session, so a transaction left open there would swallow later appends. The pool (Maximum Pool
    /// Size=2) has one more connection, for reads.
    /// </summary>
    private async Task<(MariaDbMessageLog Log, DurableCluster Cluster, CapturedLogs Logs)> CreateOnOneConnectionAsync()
    {
        var cluster = await fixture.CreateClusterAsync();
        var connectionString = new MySqlConnectionStringBuilder(cluster.ConnectionString) { MaximumPoolSize = 2 }.ConnectionString;
        var options = Options.Create(new MessageLogOptions { ConnectionString = connectionString, MaxBatch = 64, Writers = 1, Retention = TimeSpan.FromDays(1) });
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        return (new MariaDbMessageLog(options, factory.CreateLogger<MariaDbMessageLog>()), cluster, logs);
    }

    /// <summary>
    /// Queues <paramref name="messages"/> while the only writer is stuck on a table lock, so it takes them as one batch
    /// once the lock goes. Returns their appends.
    /// </summary>
    private static async Task<Task[]> AppendAsOneBatchAsync(MariaDbMessageLog log, DurableCluster cluster, params StoredMessage[] messages)
    {
        await using var locker = new MySqlConnection(cluster.ConnectionString);
        await using var observer = new MySqlConnection(cluster.ConnectionString);
        await locker.OpenAsync();
        await observer.OpenAsync();
        await using (var lockTable = new MySqlCommand("LOCK TABLES sb_messages WRITE", locker))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var held = log.AppendAsync(Message(ConversationId.ForGroup(new GroupId($"held-{Guid.NewGuid():N}")), 1, "holder", $"held-{Guid.NewGuid():N}")).AsTask();
        await Wait.UntilAsync(async () =>
        {
            await using var waiting = new MySqlCommand(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = @db AND STATE = 'Waiting for table metadata lock'", observer);
            waiting.Parameters.AddWithValue("@db", cluster.Database);
            return Convert.ToInt64(await waiting.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) > 0;
        }, "the writer waits on the locked table");

        var appends = messages.Select(m => (Task)log.AppendAsync(m).AsTask()).ToArray();
        await using (var unlock = new MySqlCommand("UNLOCK TABLES", locker))
        {
            await unlock.ExecuteNonQueryAsync();
        }

        await held;
        return appends;
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

        var page = await log.ReadAsync(conversations[0], after: 5, limit: 10, maxBytes: long.MaxValue);
        Assert.Equal(Enumerable.Range(6, 10).Select(i => (long)i), page.Messages.Select(m => m.Seq));
        Assert.True(page.More);
        Assert.True(page.Complete);
        Assert.Equal("{\"n\":6}", Encoding.UTF8.GetString(page.Messages[0].Body));
        Assert.Equal(Now, page.Messages[0].Timestamp);
    }

    [Fact]
    public async Task Every_commit_records_its_duration_and_message_count_on_the_log_meter()
    {
        var cluster = await fixture.CreateClusterAsync();
        await using var _ = cluster;
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var sizes = new ConcurrentQueue<int>();
        var durations = new ConcurrentQueue<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this test's factory: other tests' logs publish on meters of the same name.
            if (instrument.Meter.Name == MariaDbMessageLog.MeterName && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            if (instrument.Name == "switchboard.log.commit.messages")
            {
                sizes.Enqueue(value);
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == "switchboard.log.commit.duration")
            {
                durations.Enqueue(value);
            }
        });
        var observed = new ConcurrentDictionary<string, long>();
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => observed[instrument.Name] = value);
        listener.Start();

        var options = Options.Create(new MessageLogOptions { ConnectionString = cluster.ConnectionString, MaxBatch = 64, Writers = 1, Retention = TimeSpan.FromDays(1) });
        await using var log = new MariaDbMessageLog(options, NullLogger<MariaDbMessageLog>.Instance, meters);
        var group = ConversationId.ForGroup(new GroupId($"measured-{Guid.NewGuid():N}"));
        await Task.WhenAll(await AppendAsOneBatchAsync(log, cluster,
            Message(group, 1, "alice", $"m1-{group.Value}"), Message(group, 2, "alice", $"m2-{group.Value}"), Message(group, 3, "alice", $"m3-{group.Value}")));

        // The held message's commit, then the three queued behind the lock in one.
        Assert.Equal([1, 3], sizes.ToArray());
        Assert.Equal(2, durations.Count);
        Assert.All(durations, d => Assert.InRange(d, 0, 60)); // seconds
        Assert.Equal(2, log.Commits);

        // Every append answered: nothing waits in the backlog, and nothing was refused.
        listener.RecordObservableInstruments();
        Assert.Equal(0, observed["switchboard.log.backlog"]);
        Assert.Equal(0, observed["switchboard.log.refused"]);
    }

    [Fact]
    public async Task A_commit_delay_lets_messages_arriving_one_at_a_time_share_a_commit()
    {
        var cluster = await fixture.CreateClusterAsync();
        await using var _ = cluster;
        var options = Options.Create(new MessageLogOptions { ConnectionString = cluster.ConnectionString, Writers = 1, CommitDelay = TimeSpan.FromMilliseconds(40) });
        await using var log = new MariaDbMessageLog(options, NullLogger<MariaDbMessageLog>.Instance);
        var group = ConversationId.ForGroup(new GroupId("paced"));

        // The second append is issued after the first has reached the writer, well within the delay.
        var first = log.AppendAsync(Message(group, 1, "alice", "p1")).AsTask();
        await Task.Delay(5);
        var second = log.AppendAsync(Message(group, 2, "alice", "p2")).AsTask();
        await Task.WhenAll(first, second);

        Assert.Equal(1, log.Commits);
        Assert.Equal(2, log.Committed);
        Assert.Equal(2, await log.GetLatestSeqAsync(group));
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

        var seqFailure = await Assert.ThrowsAnyAsync<Exception>(() => duplicateSeq);
        Assert.IsNotType<DuplicateRequestException>(seqFailure);

        // A stored request id is an answer for the sender's grain (it then reads the original receipt), not a failure.
        var requestFailure = await Assert.ThrowsAsync<DuplicateRequestException>(() => duplicateRequest);
        Assert.Equal("r1", requestFailure.RequestId);
        await fine;
        Assert.Equal(new SendReceipt(conversation, 1), await log.FindRequestAsync(new UserId("alice"), "r1"));
        Assert.Equal(1, await log.GetLatestSeqAsync(conversation));
    }

    [Fact]
    public async Task Request_ids_that_differ_only_in_trailing_spaces_are_two_messages()
    {
        var (log, cluster) = await CreateAsync();
        await using var _ = log;
        await using var __ = cluster;
        var group = ConversationId.ForGroup(new GroupId("spaces"));

        // Under a PAD SPACE collation "x " equals "x": the second was refused as a retry of the first and never stored.
        await log.AppendAsync(Message(group, 1, "alice", "x"));
        await log.AppendAsync(Message(group, 2, "alice", "x "));
        await log.AppendAsync(Message(group, 3, "alice", "x  "));

        Assert.Equal(new SendReceipt(group, 1), await log.FindRequestAsync(new UserId("alice"), "x"));
        Assert.Equal(new SendReceipt(group, 2), await log.FindRequestAsync(new UserId("alice"), "x "));
        Assert.Equal(new SendReceipt(group, 3), await log.FindRequestAsync(new UserId("alice"), "x  "));
        Assert.Equal(["x", "x ", "x  "], (await log.ReadAsync(group, after: 0, limit: 10, maxBytes: long.MaxValue)).Messages.Select(m => m.RequestId));
        await Assert.ThrowsAsync<DuplicateRequestException>(() => log.AppendAsync(Message(group, 4, "alice", "x ")).AsTask());
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
            await log.AppendAsync(Message(conversation, seq, "alice", $"old-{seq}"));
        }

        // Aged by the database's clock, which is the one retention goes by.
        await cluster.QueryAsync("UPDATE sb_messages SET created_at = UTC_TIMESTAMP(6) - INTERVAL 3 DAY");

        var swept = await log.SweepAsync(CancellationToken.None);

        Assert.Equal(new SweepResult(SweepOutcome.Swept, Deleted: 4, Expired: 5, Total: 5), swept);
        Assert.Equal(5, await log.GetLatestSeqAsync(conversation));
        var fromStart = await log.ReadAsync(conversation, after: 0, limit: 100, maxBytes: long.MaxValue);
        Assert.False(fromStart.Complete);
        Assert.Equal([5L], fromStart.Messages.Select(m => m.Seq));
        Assert.True((await log.ReadAsync(conversation, after: 4, limit: 100, maxBytes: long.MaxValue)).Complete);

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

        // What an owner loads once per activation: its direct conversations with their latest seq (null: too many to keep).
        var direct = await log.ListDirectConversationsAsync(alice, limit: 2);
        Assert.Equal([(withBob.Value, 2L), (withCarol.Value, 1L)], direct!.Select(c => (c.Conversation.Value, c.Seq)).OrderBy(c => c.Value, StringComparer.Ordinal));
        Assert.Null(await log.ListDirectConversationsAsync(alice, limit: 1));
        Assert.Empty((await log.ListDirectConversationsAsync(new UserId("dave"), limit: 2))!);
    }

    [Fact]
    public async Task A_failed_batch_fails_only_the_culprit_and_leaves_no_transaction_open_on_its_connection()
    {
        var (log, cluster, logs) = await CreateOnOneConnectionAsync();
        await using var _ = log;
        await using var __ = cluster;
        var withBob = ConversationId.Direct(new UserId("alice"), new UserId("bob"));
        var withCarol = ConversationId.Direct(new UserId("alice"), new UserId("carol"));
        var group = ConversationId.ForGroup(new GroupId("maths"));
        await log.AppendAsync(Message(withBob, 1, "alice", "r1"));

        // A conversation starts in the batch (so it commits as START TRANSACTION ... COMMIT), and its last message
        // is a second seq 1 for withBob: the batch fails, and so does the culprit's own transaction on the retry.
        var appends = await AppendAsOneBatchAsync(log, cluster,
            Message(withCarol, 1, "carol", "c1"),
            Message(group, 1, "alice", "g1"),
            Message(withBob, 1, "bob", "b1"));

        await appends[0];
        await appends[1];
        await Assert.ThrowsAsync<MySqlException>(() => appends[2]);
        Assert.Contains(logs.Lines, line => line.Contains("[4001] A group commit of 3 messages failed", StringComparison.Ordinal));

        // The next commit reuses that connection: it must be on its own, not inside the failed one's transaction,
        // or it would report success and still be invisible to every other session.
        await log.AppendAsync(Message(group, 2, "alice", "g2"));
        Assert.Equal(
            $"{withBob.Value}\t1\talice\n{withCarol.Value}\t1\tcarol\n{group.Value}\t1\talice\n{group.Value}\t2\talice",
            (await cluster.QueryAsync("SELECT conversation, seq, sender FROM sb_messages WHERE sender <> 'holder' ORDER BY conversation, seq")).Trim());
    }

    [Fact]
    public async Task A_direct_conversation_enters_both_users_lists_exactly_when_its_first_message_is_stored()
    {
        var (log, cluster, _) = await CreateOnOneConnectionAsync();
        await using var __ = log;
        await using var ___ = cluster;
        var alice = new UserId("alice");
        var withBob = ConversationId.Direct(alice, new UserId("bob"));
        var withDave = ConversationId.Direct(alice, new UserId("dave"));
        var withErin = ConversationId.Direct(alice, new UserId("erin"));
        var group = ConversationId.ForGroup(new GroupId("maths"));
        await log.AppendAsync(Message(withBob, 1, "alice", "a1"));

        // withErin's first message reuses alice's request id: its row is refused, so no list may show withErin.
        var appends = await AppendAsOneBatchAsync(log, cluster,
            Message(withDave, 1, "dave", "d1"),
            Message(withErin, 1, "alice", "a1"),
            Message(group, 1, "erin", "e1"),
            Message(withBob, 2, "bob", "b2"));

        await appends[0];
        await Assert.ThrowsAsync<DuplicateRequestException>(() => appends[1]);
        await appends[2];
        await appends[3];
        var expected = new[] { ("alice", withBob), ("alice", withDave), ("bob", withBob), ("dave", withDave) }
            .OrderBy(x => x.Item1, StringComparer.Ordinal).ThenBy(x => x.Item2.Value, StringComparer.Ordinal)
            .Select(x => $"{x.Item1}\t{x.Item2.Value}");
        Assert.Equal(
            string.Join('\n', expected),
            (await cluster.QueryAsync("SELECT user_id, conversation FROM sb_user_conversations ORDER BY user_id, conversation")).Trim());
        Assert.Empty(await log.ListConversationsAsync(new UserId("erin"), []));
        Assert.Equal([new ConversationSummary(withDave, 1)], await log.ListConversationsAsync(new UserId("dave"), []));
    }
}
