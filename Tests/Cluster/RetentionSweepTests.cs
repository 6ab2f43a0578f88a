using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>The retention sweep against a real server: the database's clock, one sweeper at a time, a bound on what one sweep deletes.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class RetentionSweepTests(DurableClusterFixture fixture)
{
    private static MessageLogOptions Options(DurableCluster cluster, double fraction = 1) => new()
    {
        ConnectionString = cluster.ConnectionString,
        Writers = 1,
        Retention = TimeSpan.FromDays(1),
        RetentionSweepPeriod = TimeSpan.FromMilliseconds(50),
        RetentionMaxSweepFraction = fraction,
    };

    /// <summary>Appends seq 1..<paramref name="count"/> to a fresh group and ages the first <paramref name="aged"/> by three days of the database's clock.</summary>
    private static async Task<ConversationId> SeedAsync(MariaDbMessageLog log, DurableCluster cluster, int count, int aged)
    {
        var group = ConversationId.ForGroup(new GroupId($"kept-{Guid.NewGuid():N}"));
        Recipient.TryParse(group.Value, out var to);
        for (var seq = 1; seq <= count; seq++)
        {
            await log.AppendAsync(new StoredMessage(group, seq, new UserId("alice"), to, $"{group.Value}-{seq}", Encoding.UTF8.GetBytes("{}"), DateTimeOffset.UtcNow));
        }

        await cluster.QueryAsync($"UPDATE sb_messages SET created_at = UTC_TIMESTAMP(6) - INTERVAL 3 DAY WHERE conversation = '{group.Value}' AND seq <= {aged}");
        return group;
    }

    private static async Task<long[]> SeqsAsync(DurableCluster cluster, ConversationId group) =>
        (await cluster.QueryAsync($"SELECT seq FROM sb_messages WHERE conversation = '{group.Value}' ORDER BY seq"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();

    [Fact]
    public async Task A_silo_whose_clock_jumped_years_ahead_deletes_only_what_the_database_clock_calls_expired()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var options = Microsoft.Extensions.Options.Options.Create(Options(cluster));
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        await using var log = new MariaDbMessageLog(options, factory.CreateLogger<MariaDbMessageLog>());
        var group = await SeedAsync(log, cluster, count: 4, aged: 2);

        // By this silo's clock every message is ten years old; a cutoff taken from it deleted all but the latest.
        using var retention = new MessageLogRetention(log, options, new SkewedTime(TimeSpan.FromDays(3650)), factory.CreateLogger<MessageLogRetention>());
        await retention.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => logs.Lines.Any(l => l.Contains("[4010]", StringComparison.Ordinal)), "a sweep deleted the expired messages");
        await retention.StopAsync(CancellationToken.None);

        Assert.Equal(new long[] { 3, 4 }, await SeqsAsync(cluster, group));
        Assert.Contains(logs.Lines, l => l.Contains("[4010] Retention: deleted 2 expired messages", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Only_one_silo_sweeps_at_a_time_and_the_others_skip()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await using var log = new MariaDbMessageLog(Microsoft.Extensions.Options.Options.Create(Options(cluster)), Microsoft.Extensions.Logging.Abstractions.NullLogger<MariaDbMessageLog>.Instance);
        var group = await SeedAsync(log, cluster, count: 3, aged: 2);

        // Another silo's sweep holds the database's retention lock.
        await using var other = new MySqlConnection(cluster.ConnectionString);
        await other.OpenAsync();
        await using (var take = new MySqlCommand("SELECT GET_LOCK(CONCAT('switchboard.retention.', DATABASE()), 0)", other))
        {
            Assert.Equal(1L, Convert.ToInt64(await take.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(new SweepResult(SweepOutcome.Busy, 0, 0, 0), await log.SweepAsync(CancellationToken.None));
        Assert.Equal(new long[] { 1, 2, 3 }, await SeqsAsync(cluster, group));

        await using (var release = new MySqlCommand("DO RELEASE_LOCK(CONCAT('switchboard.retention.', DATABASE()))", other))
        {
            await release.ExecuteNonQueryAsync();
        }

        Assert.Equal(new SweepResult(SweepOutcome.Swept, Deleted: 2, Expired: 2, Total: 3), await log.SweepAsync(CancellationToken.None));
        Assert.Equal(new long[] { 3 }, await SeqsAsync(cluster, group));

        // The sweep let its lock go: another silo takes it at once.
        await using var again = new MySqlCommand("SELECT GET_LOCK(CONCAT('switchboard.retention.', DATABASE()), 0)", other);
        Assert.Equal(1L, Convert.ToInt64(await again.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_sweep_that_would_delete_more_than_the_allowed_fraction_deletes_nothing_and_logs_an_error()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var options = Microsoft.Extensions.Options.Options.Create(Options(cluster, fraction: 0.5));
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        await using var log = new MariaDbMessageLog(options, factory.CreateLogger<MariaDbMessageLog>());
        var group = await SeedAsync(log, cluster, count: 4, aged: 3);

        using var retention = new MessageLogRetention(log, options, TimeProvider.System, factory.CreateLogger<MessageLogRetention>());
        await retention.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => logs.Lines.Any(l => l.Contains("[4012]", StringComparison.Ordinal)), "the sweep is refused");
        await retention.StopAsync(CancellationToken.None);

        Assert.Equal(new long[] { 1, 2, 3, 4 }, await SeqsAsync(cluster, group));
        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("[4012] Retention sweep refused: 3 of 4 messages", StringComparison.Ordinal));

        // The operator means it: one sweep with the bound raised.
        options.Value.RetentionMaxSweepFraction = 1;
        Assert.Equal(new SweepResult(SweepOutcome.Swept, Deleted: 3, Expired: 3, Total: 4), await log.SweepAsync(CancellationToken.None));
        Assert.Equal(new long[] { 4 }, await SeqsAsync(cluster, group));
    }

    [Fact]
    public async Task A_quiet_log_whose_expired_messages_are_each_conversations_latest_is_not_refused()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await using var log = new MariaDbMessageLog(Microsoft.Extensions.Options.Options.Create(Options(cluster, fraction: 0.5)), Microsoft.Extensions.Logging.Abstractions.NullLogger<MariaDbMessageLog>.Instance);
        var quiet = await SeedAsync(log, cluster, count: 1, aged: 1);
        var other = await SeedAsync(log, cluster, count: 1, aged: 1);

        // Everything is past the retention, but the sweep would delete nothing: no alarm.
        Assert.Equal(new SweepResult(SweepOutcome.Swept, Deleted: 0, Expired: 2, Total: 2), await log.SweepAsync(CancellationToken.None));
        Assert.Equal(new long[] { 1 }, await SeqsAsync(cluster, quiet));
        Assert.Equal(new long[] { 1 }, await SeqsAsync(cluster, other));
    }

    /// <summary>A wall clock set <paramref name="offset"/> ahead; timers still tick in real time.</summary>
    private sealed class SkewedTime(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }
}
