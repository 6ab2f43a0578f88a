using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Cluster;

/// <summary>
/// Server settings a silo must notice: each test starts its own mariadbd with the setting under test (a commit that
/// does not survive a crash, a small max_allowed_packet) and applies the schema with deploy/sql/apply.sh.
/// </summary>
[Trait(Category.Name, Category.Durable)]
public sealed class MariaDbServerSettingsTests
{
    [Theory]
    [InlineData("innodb_flush_log_at_trx_commit=2", "--innodb-flush-log-at-trx-commit=2")]
    [InlineData("innodb_flush_log_at_trx_commit=0", "--innodb-flush-log-at-trx-commit=0")]
    [InlineData("sync_binlog=0", "--log-bin", "--sync-binlog=0")]
    public async Task The_start_check_refuses_a_server_on_which_an_acked_commit_can_be_lost_in_a_crash(string named, params string[] settings)
    {
        await using var server = await MariaDbServer.StartAsync(settings);
        var connectionString = await server.CreateDatabaseAsync("sb_unsafe");
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Check(connectionString, factory, unsafeAllowed: false).CheckAsync(CancellationToken.None));
        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
        Assert.Contains("Switchboard:MessageLog:UnsafeAllowLossOfAckedMessages", refused.Message, StringComparison.Ordinal);
        Assert.Contains(logs.Lines, l => l.StartsWith("Critical", StringComparison.Ordinal) && l.Contains("[4022]", StringComparison.Ordinal));

        // The explicit option accepts it, loudly.
        Assert.Equal(MariaDbStartupCheck.RequiredSchemaVersion, await Check(connectionString, factory, unsafeAllowed: true).CheckAsync(CancellationToken.None));
        Assert.Contains(logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("[4023] UNSAFE", StringComparison.Ordinal) && l.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_start_check_refuses_autocommit_off_whatever_the_unsafe_option_says()
    {
        // The log's single INSERTs would never commit: every ack a lie, crash or not. apply.sh still records its work.
        await using var server = await MariaDbServer.StartAsync("--autocommit=0");
        var connectionString = await server.CreateDatabaseAsync("sb_noautocommit");
        Assert.Equal($"{MariaDbStartupCheck.RequiredSchemaVersion}", (await server.QueryAsync("sb_noautocommit", "SELECT MAX(version) FROM sb_schema_version")).Trim());
        Assert.Equal("4", (await server.QueryAsync("sb_noautocommit", "SELECT COUNT(*) FROM OrleansQuery")).Trim());
        using var factory = LoggerFactory.Create(_ => { });

        foreach (var unsafeAllowed in new[] { false, true })
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Check(connectionString, factory, unsafeAllowed).CheckAsync(CancellationToken.None));
            Assert.Contains("autocommit off", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_start_check_accepts_a_durable_server_without_a_word()
    {
        await using var server = await MariaDbServer.StartAsync("--log-bin", "--sync-binlog=1");
        var connectionString = await server.CreateDatabaseAsync("sb_durable");
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));

        Assert.Equal(MariaDbStartupCheck.RequiredSchemaVersion, await Check(connectionString, factory, unsafeAllowed: false).CheckAsync(CancellationToken.None));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("[402", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_silo_process_does_not_start_on_a_server_that_would_lose_acked_messages()
    {
        await using var server = await MariaDbServer.StartAsync("--innodb-flush-log-at-trx-commit=2");
        var connectionString = await server.CreateDatabaseAsync("sb_unsafe");
        var logDirectory = Directory.CreateTempSubdirectory("sb-unsafe-silo-").FullName;

        // Refused before Orleans starts: the membership Redis is never asked, so none is needed here.
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            SiloProcess.StartAsync("unsafe", $"tests-{Guid.NewGuid():N}", "127.0.0.1:1,abortConnect=false", connectionString, logDirectory));
        Assert.Contains("exited with", failed.Message, StringComparison.Ordinal);
        Assert.Contains("innodb_flush_log_at_trx_commit=2", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batches_of_maximum_size_bodies_stay_under_max_allowed_packet_and_keep_group_commit()
    {
        await using var server = await MariaDbServer.StartAsync("--max-allowed-packet=1M");
        var connectionString = await server.CreateDatabaseAsync("sb_packet");
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var options = Options.Create(new MessageLogOptions { ConnectionString = connectionString, Writers = 1, MaxBatch = 256 });
        await using var log = new MariaDbMessageLog(options, factory.CreateLogger<MariaDbMessageLog>());

        // 64 KiB of quotes: every byte is escaped in a text command, the most SQL a body of the socket limit can make.
        const int Messages = 40;
        var body = Enumerable.Repeat((byte)'\'', 64 * 1024).ToArray();
        var group = ConversationId.ForGroup(new GroupId("large"));
        Recipient.TryParse(group.Value, out var to);
        var appends = await AppendBehindATableLockAsync(log, connectionString, "sb_packet", Enumerable.Range(1, Messages)
            .Select(seq => new StoredMessage(group, seq, new UserId("alice"), to, $"large-{seq}", body, DateTimeOffset.UtcNow)).ToArray());
        await Task.WhenAll(appends);

        Assert.Equal($"{Messages}\t{Messages * (long)body.Length}", (await server.QueryAsync("sb_packet",
            $"SELECT COUNT(*), SUM(LENGTH(body)) FROM sb_messages WHERE conversation = '{group.Value}' AND body = REPEAT('''', {body.Length})")).Trim());

        // Whole batches committed: about 1 MiB each (the held message's commit is the first), none failed and retried one by one.
        Assert.DoesNotContain(logs.Lines, l => l.Contains("[4001]", StringComparison.Ordinal));
        Assert.InRange(log.Commits, 1 + (Messages * 2L * body.Length / (1024 * 1024)), 1L + (Messages / 2));
    }

    private static MariaDbStartupCheck Check(string connectionString, ILoggerFactory factory, bool unsafeAllowed) =>
        new(Options.Create(new MessageLogOptions { ConnectionString = connectionString, UnsafeAllowLossOfAckedMessages = unsafeAllowed }),
            new MariaDbLogEpoch(),
            factory.CreateLogger<MariaDbStartupCheck>());

    /// <summary>Queues <paramref name="messages"/> while the only writer waits on a table lock, so it takes as many as it may at once.</summary>
    private static async Task<Task[]> AppendBehindATableLockAsync(MariaDbMessageLog log, string connectionString, string database, StoredMessage[] messages)
    {
        await using var locker = new MySqlConnection(connectionString);
        await using var observer = new MySqlConnection(connectionString);
        await locker.OpenAsync();
        await observer.OpenAsync();
        await using (var lockTable = new MySqlCommand("LOCK TABLES sb_messages WRITE", locker))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var heldGroup = ConversationId.ForGroup(new GroupId("held"));
        Recipient.TryParse(heldGroup.Value, out var to);
        var held = log.AppendAsync(new StoredMessage(heldGroup, 1, new UserId("holder"), to, "held", Encoding.UTF8.GetBytes("{}"), DateTimeOffset.UtcNow)).AsTask();
        await Wait.UntilAsync(async () =>
        {
            await using var waiting = new MySqlCommand(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = @db AND STATE = 'Waiting for table metadata lock'", observer);
            waiting.Parameters.AddWithValue("@db", database);
            return Convert.ToInt64(await waiting.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) > 0;
        }, "the writer waits on the locked table");

        var appends = messages.Select(m => log.AppendAsync(m).AsTask()).ToArray();
        await using (var unlock = new MySqlCommand("UNLOCK TABLES", locker))
        {
            await unlock.ExecuteNonQueryAsync();
        }

        await held;
        return appends;
    }
}
