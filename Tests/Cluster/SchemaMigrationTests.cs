using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Switchboard.Persistence.MariaDb;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Cluster;

/// <summary>
/// deploy/sql/apply.sh and the schema version against a real server: an old database upgrades in place, and a silo
/// refuses a schema older than it needs and tolerates a newer one.
/// </summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class SchemaMigrationTests(DurableClusterFixture fixture)
{
    private static string Sql(string file) => Path.Combine(ChildProcesses.RepositoryRoot(), "deploy", "sql", file);

    private Task<string> ApplyAsync(string database) =>
        ChildProcesses.RunAsync("bash", [Sql("apply.sh"), database, $"--socket={fixture.MariaDb.Socket}", "-uroot"]);

    private Task<string> QueryAsync(string database, string sql) => fixture.MariaDb.QueryAsync(database, sql);

    /// <summary>The numbers of the migrations in deploy/sql, in order (branches take numbers by name, so one may be missing for a while).</summary>
    private static IEnumerable<int> Migrations() => Directory.GetFiles(Path.GetDirectoryName(Sql("apply.sh"))!, "*.sql")
        .Select(f => int.Parse(Path.GetFileName(f)[..3], System.Globalization.CultureInfo.InvariantCulture)).Order();

    /// <summary>A database as the scripts before versioning made it: 001 and 002 are those scripts, unchanged, run by hand.</summary>
    private async Task<string> CreateUnversionedAsync()
    {
        var database = $"sb_old_{Guid.NewGuid():N}"[..20];
        await QueryAsync("mysql", $"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
        foreach (var file in new[] { "001-orleans-grain-storage.sql", "002-message-log.sql" })
        {
            await ChildProcesses.RunAsync("bash", ["-c", $"mariadb --no-defaults --socket='{fixture.MariaDb.Socket}' -uroot '{database}' < '{Sql(file)}'"]);
        }

        return database;
    }

    private string ConnectionString(string database) =>
        $"Server=127.0.0.1;Port={fixture.MariaDb.Port};Database={database};User ID=root;Pooling=true";

    [Fact]
    public async Task A_database_made_before_versioning_upgrades_in_place_and_keeps_its_rows()
    {
        var database = await CreateUnversionedAsync();
        await QueryAsync(database,
            "INSERT INTO sb_messages VALUES ('group:g', 1, 'alice', 'group:g', 'x', 'b1', UTC_TIMESTAMP(6)), ('group:g', 2, 'bob', 'group:g', 'x ', 'b2', UTC_TIMESTAMP(6));" +
            "INSERT INTO sb_user_conversations VALUES ('alice', 'dm:alice:bob');" +
            "CALL sb_storage_write(1, 2, 3, 4, 'type', NULL, 'svc', NULL, 'state');");
        var before = await QueryAsync(database, "SELECT conversation, seq, sender, request_id, body FROM sb_messages ORDER BY seq");

        var output = await ApplyAsync(database);

        Assert.Contains("003-request-id-nopad", output, StringComparison.Ordinal);
        Assert.Contains($"{database} is at schema version {MariaDbStartupCheck.RequiredSchemaVersion}", output, StringComparison.Ordinal);
        Assert.Equal(before, await QueryAsync(database, "SELECT conversation, seq, sender, request_id, body FROM sb_messages ORDER BY seq"));
        Assert.Equal("alice\tdm:alice:bob", (await QueryAsync(database, "SELECT user_id, conversation FROM sb_user_conversations")).Trim());
        Assert.Equal("1\tstate", (await QueryAsync(database, "SELECT Version, PayloadBinary FROM OrleansStorage")).Trim());
        Assert.Equal("utf8mb4_nopad_bin", (await QueryAsync(database,
            $"SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{database}' AND TABLE_NAME = 'sb_messages' AND COLUMN_NAME = 'request_id'")).Trim());
        Assert.Equal(string.Join("\n", Migrations()), (await QueryAsync(database, "SELECT version FROM sb_schema_version ORDER BY version")).Trim());

        // "x " is now a request id of its own; before, it was alice's "x" again.
        await QueryAsync(database, "INSERT INTO sb_messages (conversation, seq, sender, recipient, request_id, body, created_at) VALUES ('group:g', 3, 'alice', 'group:g', 'x ', 'b3', UTC_TIMESTAMP(6))");
        Assert.Equal("3", (await QueryAsync(database, "SELECT COUNT(*) FROM sb_messages WHERE request_id LIKE 'x%'")).Trim());

        // Applying again changes nothing.
        var again = await ApplyAsync(database);
        Assert.DoesNotContain("->", again, StringComparison.Ordinal);
        Assert.Equal(string.Join("\n", Migrations()), (await QueryAsync(database, "SELECT version FROM sb_schema_version ORDER BY version")).Trim());
    }

    [Fact]
    public async Task The_highest_migration_is_the_version_this_build_requires()
    {
        var highest = Directory.GetFiles(Path.GetDirectoryName(Sql("apply.sh"))!, "*.sql")
            .Select(f => int.Parse(Path.GetFileName(f)[..3], System.Globalization.CultureInfo.InvariantCulture)).Max();
        Assert.Equal(MariaDbStartupCheck.RequiredSchemaVersion, highest);

        var database = $"sb_new_{Guid.NewGuid():N}"[..20];
        await ApplyAsync(database);
        Assert.Equal($"{highest}", (await QueryAsync(database, "SELECT MAX(version) FROM sb_schema_version")).Trim());
    }

    [Fact]
    public async Task A_silo_refuses_to_start_on_a_schema_older_than_it_needs_and_names_the_command()
    {
        var database = await CreateUnversionedAsync();

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartAsync(
            "old-schema", $"tests-{database}", fixture.Redis.ConnectionString, ConnectionString(database), fixture.LogDirectory));

        Assert.Contains("exited with", failed.Message, StringComparison.Ordinal);
        Assert.Contains($"schema version 0; this build needs {MariaDbStartupCheck.RequiredSchemaVersion}", failed.Message, StringComparison.Ordinal);
        Assert.Contains($"deploy/sql/apply.sh {database}", failed.Message, StringComparison.Ordinal);

        // A partly migrated database is refused the same way.
        await ApplyAsync(database);
        await QueryAsync(database, $"DELETE FROM sb_schema_version WHERE version = {MariaDbStartupCheck.RequiredSchemaVersion}");
        var check = new MariaDbStartupCheck(Options.Create(new MessageLogOptions { ConnectionString = ConnectionString(database) }), new MariaDbLogEpoch(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<MariaDbStartupCheck>.Instance);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => check.CheckAsync(CancellationToken.None));
        Assert.Contains($"deploy/sql/apply.sh {database}", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schema_newer_than_the_build_starts_with_a_loud_warning()
    {
        var database = $"sb_next_{Guid.NewGuid():N}"[..20];
        await ApplyAsync(database);
        var next = MariaDbStartupCheck.RequiredSchemaVersion + 1;
        await QueryAsync(database, $"INSERT INTO sb_schema_version VALUES ({next}, '{next:000}-from-a-later-build', UTC_TIMESTAMP(6))");
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var check = new MariaDbStartupCheck(Options.Create(new MessageLogOptions { ConnectionString = ConnectionString(database) }), new MariaDbLogEpoch(), factory.CreateLogger<MariaDbStartupCheck>());

        Assert.Equal(next, await check.CheckAsync(CancellationToken.None));

        Assert.Contains(logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("[4021] THE DATABASE SCHEMA IS NEWER", StringComparison.Ordinal));
    }
}
