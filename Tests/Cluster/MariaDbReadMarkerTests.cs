using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;
using Switchboard.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Switchboard.Tests.Cluster;

/// <summary>Read markers in the MariaDB log (deploy/sql/005-read-markers.sql) against a real server.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class MariaDbReadMarkerTests(DurableClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private async Task<(MariaDbMessageLog Log, DurableCluster Cluster)> CreateAsync(TimeSpan? markerDelay = null)
    {
        var cluster = await fixture.CreateClusterAsync();
        var options = Options.Create(new MessageLogOptions
        {
            ConnectionString = cluster.ConnectionString, MaxBatch = 64, Writers = 1, Retention = TimeSpan.FromDays(1),
            MarkerDelay = markerDelay ?? new MessageLogOptions().MarkerDelay,
        });
        return (new MariaDbMessageLog(options, NullLogger<MariaDbMessageLog>.Instance), cluster);
    }

    [Fact]
    public async Task Markers_only_move_forward_and_a_send_moves_its_senders_marker_in_its_own_insert()
    {
        var (log, cluster) = await CreateAsync();
        await using var _ = log;
        await using var __ = cluster;
        var (alice, bob) = (new UserId("alice"), new UserId("bob"));
        var dm = ConversationId.Direct(alice, bob);
        for (var seq = 1; seq <= 3; seq++)
        {
            await log.AppendAsync(Message(dm, seq, alice, bob));
        }

        await log.MarkReadAsync(bob, dm, 2);
        await log.MarkReadAsync(bob, dm, 1);

        Assert.Equal(3, await log.GetReadAsync(alice, dm));
        Assert.Equal(2, await log.GetReadAsync(bob, dm));
        Assert.Equal(0, await log.GetReadAsync(new UserId("carol"), dm));
        Assert.Equal(new Dictionary<ConversationId, long> { [dm] = 2 }, await log.GetReadMarkersAsync(bob));
        Assert.Equal(["alice", "bob"], (await log.GetReadersAsync(dm, 2)).Select(u => u.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["alice"], (await log.GetReadersAsync(dm, 3)).Select(u => u.Value));
    }

    [Fact]
    public async Task Markers_gathered_in_their_delay_share_one_commit_of_their_own_and_never_hold_up_a_message()
    {
        var (log, cluster) = await CreateAsync(markerDelay: TimeSpan.FromSeconds(2));
        await using var _ = log;
        await using var __ = cluster;
        var group = ConversationId.ForGroup(new GroupId($"g-{Guid.NewGuid():N}"));
        var amy = new UserId("amy");
        await log.AppendAsync(Message(group, 1, amy, null));
        var commits = log.Commits;

        // Twenty readers within the delay: one commit for all of them; a message sent meanwhile commits on its own at once.
        var markers = Enumerable.Range(0, 20).Select(i => log.MarkReadAsync(new UserId($"reader{i}"), group, 1).AsTask()).ToArray();
        await log.AppendAsync(Message(group, 2, amy, null));
        Assert.DoesNotContain(markers, m => m.IsCompleted);
        Assert.Equal(commits + 1, log.Commits);
        await Task.WhenAll(markers);

        Assert.Equal(commits + 2, log.Commits);
        Assert.Equal(20, (await log.GetReadersAsync(group, 1)).Count(u => u.Value.StartsWith("reader", StringComparison.Ordinal)));
        Assert.Equal(2, await log.GetReadAsync(amy, group));
    }

    [Fact]
    public async Task The_readers_of_a_message_in_a_ten_thousand_member_group_come_from_one_index_range_well_within_200_ms()
    {
        var (log, cluster) = await CreateAsync();
        await using var _ = log;
        await using var __ = cluster;
        var group = ConversationId.ForGroup(new GroupId($"g-{Guid.NewGuid():N}"));
        await using (var connection = new MySqlConnection(cluster.ConnectionString))
        {
            await connection.OpenAsync();
            // 10,000 members' markers (and another group's beside them), by direct SQL: 6,000 read up to seq 5, 4,000 to 4.
            var rows = new StringBuilder();
            for (var i = 0; i < 10_000; i++)
            {
                rows.Append(i == 0 ? string.Empty : ", ").Append($"('u{i:D5}', '{group.Value}', {(i < 6_000 ? 5 : 4)}), ('u{i:D5}', 'group:other', 9)");
            }

            await Execute(connection, $"INSERT INTO sb_read_markers (user_id, conversation, seq) VALUES {rows}");
            await Execute(connection, "ANALYZE TABLE sb_read_markers");
        }

        await log.GetReadersAsync(group, 5);
        var timings = new List<double>();
        IReadOnlyList<UserId> readers = [];
        for (var i = 0; i < 5; i++)
        {
            var started = Stopwatch.GetTimestamp();
            readers = await log.GetReadersAsync(group, 5);
            timings.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        output.WriteLine($"readers of a 10,000-member group on MariaDB: {string.Join(", ", timings.Select(t => $"{t:0.0}"))} ms");
        Assert.Equal(6_000, readers.Count);
        Assert.Equal(10_000, (await log.GetReadersAsync(group, 1)).Count);
        Assert.True(timings.Order().ElementAt(2) < 100, $"readers took {string.Join(", ", timings)} ms");
    }

    private static async Task Execute(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static StoredMessage Message(ConversationId conversation, long seq, UserId from, UserId? to)
    {
        Recipient.TryParse(to is { } user ? $"user:{user.Value}" : conversation.Value, out var recipient);
        return new StoredMessage(conversation, seq, from, recipient, $"r-{Guid.NewGuid():N}", Encoding.UTF8.GetBytes($"{{\"n\":{seq}}}"), Now);
    }
}
