using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Switchboard.Persistence.MariaDb;

/// <summary>
/// What a durable silo checks of its database before anything starts (before Orleans joins the cluster or Kestrel
/// listens): that the schema is at least the version this build needs, and that the server makes a commit survive
/// a crash, since an <c>ack</c> promises exactly that. Either failing stops the start with a message saying what to do.
/// </summary>
public sealed partial class MariaDbStartupCheck(IOptions<MessageLogOptions> options, MariaDbLogEpoch epoch, ILogger<MariaDbStartupCheck> logger) : IHostedLifecycleService
{
    /// <summary>
    /// The schema version this build needs: the highest numbered migration in deploy/sql (a test keeps them equal).
    /// A newer database is accepted, since migrations only add, so an old silo restarting during an upgrade still works.
    /// </summary>
    public const int RequiredSchemaVersion = 5;

    private const int NoSuchTable = 1146;

    /// <summary>Checks the database; throws <see cref="InvalidOperationException"/> saying what to do when the silo must not start.</summary>
    public async Task<int> CheckAsync(CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(MariaDbMessageLog.ConnectionStringFor(options.Value.ConnectionString));
        await connection.OpenAsync(cancellationToken);
        var version = await ReadSchemaVersionAsync(connection, cancellationToken);
        if (version < RequiredSchemaVersion)
        {
            var message =
                $"The database '{connection.Database}' is at schema version {version}; this build needs {RequiredSchemaVersion}. " +
                $"Apply the migrations, then start the silo again: deploy/sql/apply.sh {connection.Database} [mariadb client options...] " +
                "(it applies only what is missing; silos already running keep working while it runs).";
            LogSchemaTooOld(logger, version, RequiredSchemaVersion, connection.Database);
            throw new InvalidOperationException(message);
        }

        if (version > RequiredSchemaVersion)
        {
            LogSchemaNewer(logger, version, RequiredSchemaVersion);
        }

        await using (var read = new MySqlCommand("SELECT epoch FROM sb_log_epoch WHERE id = 1", connection))
        {
            epoch.Set(await read.ExecuteScalarAsync(cancellationToken) as string
                ?? throw new InvalidOperationException($"The database '{connection.Database}' has no log epoch: run deploy/sql/apply.sh {connection.Database} [mariadb client options...]."));
        }

        var variables = await ReadVariablesAsync(connection, cancellationToken);
        if (variables.GetValueOrDefault("session.autocommit") == "0" || variables.GetValueOrDefault("autocommit") is "OFF" or "0")
        {
            // Not a risk on a crash but a certainty: the log's single INSERTs would never commit.
            throw new InvalidOperationException(
                "The database session runs with autocommit off (the server's autocommit or init_connect): acked messages would " +
                "never be committed. Set autocommit=1 on the server.");
        }

        var risks = DurabilityRisks(variables);
        if (risks.Count > 0)
        {
            var what = string.Join("; ", risks);
            if (!options.Value.UnsafeAllowLossOfAckedMessages)
            {
                LogNotDurable(logger, what);
                throw new InvalidOperationException(
                    $"The database does not make a commit survive a crash, so acked messages could be lost: {what}. Fix the server's " +
                    "settings, or set Switchboard:MessageLog:UnsafeAllowLossOfAckedMessages=true to run anyway (never in production).");
            }

            LogNotDurableAccepted(logger, what);
        }

        return version;
    }

    /// <summary>The server settings under which a committed transaction can vanish in a crash.</summary>
    internal static List<string> DurabilityRisks(IReadOnlyDictionary<string, string> variables)
    {
        var risks = new List<string>();
        // 1 flushes the redo log at every commit; MariaDB's 3 does too (without binlog group commit); 0 and 2 lose up to a second.
        if (variables.TryGetValue("innodb_flush_log_at_trx_commit", out var flush) && flush is not ("1" or "3"))
        {
            risks.Add($"innodb_flush_log_at_trx_commit={flush} (keep 1: 0 and 2 lose the last second of commits in a crash)");
        }

        // With the binary log on, crash recovery rolls back prepared transactions the binlog lost, acked or not.
        if (variables.GetValueOrDefault("log_bin") is "ON" or "1" && variables.TryGetValue("sync_binlog", out var sync) && sync != "1")
        {
            risks.Add($"log_bin=ON with sync_binlog={sync} (set sync_binlog=1)");
        }

        if (variables.TryGetValue("innodb_flush_method", out var method) && method.Equals("nosync", StringComparison.OrdinalIgnoreCase))
        {
            risks.Add("innodb_flush_method=nosync (never syncs data files)");
        }

        return risks;
    }

    private static async Task<int> ReadSchemaVersionAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = new MySqlCommand("SELECT IFNULL(MAX(version), 0) FROM sb_schema_version", connection);
            return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        catch (MySqlException exception) when (exception.Number == NoSuchTable)
        {
            // A database made before versioning (or never migrated at all).
            return 0;
        }
    }

    private static async Task<Dictionary<string, string>> ReadVariablesAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        // SHOW skips what a server version lacks, where reading a missing @@variable fails.
        var variables = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        await using (var command = new MySqlCommand(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('innodb_flush_log_at_trx_commit', 'log_bin', 'sync_binlog', 'innodb_flush_method', 'autocommit')",
            connection))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                variables[reader.GetString(0)] = reader.GetString(1);
            }
        }

        await using (var session = new MySqlCommand("SELECT @@session.autocommit", connection))
        {
            variables["session.autocommit"] = Convert.ToString(await session.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) ?? "1";
        }

        return variables;
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => CheckAsync(cancellationToken);

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4020, Level = LogLevel.Critical, Message =
        "The database is at schema version {Version}; this build needs {Required}. Run deploy/sql/apply.sh {Database} [client options...], then start the silo again")]
    private static partial void LogSchemaTooOld(ILogger logger, int version, int required, string database);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Warning, Message =
        "THE DATABASE SCHEMA IS NEWER THAN THIS BUILD: version {Version}, this build knows {Required}. Migrations only add, so this silo works, " +
        "but it is older than the schema: finish upgrading the silos")]
    private static partial void LogSchemaNewer(ILogger logger, int version, int required);

    [LoggerMessage(EventId = 4022, Level = LogLevel.Critical, Message = "The database does not make a commit survive a crash: {Risks}. The silo does not start")]
    private static partial void LogNotDurable(ILogger logger, string risks);

    [LoggerMessage(EventId = 4023, Level = LogLevel.Warning, Message =
        "UNSAFE: acked messages may be lost in a crash of the database ({Risks}); started anyway because Switchboard:MessageLog:UnsafeAllowLossOfAckedMessages is on")]
    private static partial void LogNotDurableAccepted(ILogger logger, string risks);
}
