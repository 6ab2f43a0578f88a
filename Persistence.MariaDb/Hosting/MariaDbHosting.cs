using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using Switchboard.Grains.Conversations;

namespace Switchboard.Persistence.MariaDb.Hosting;

/// <summary>
/// The MariaDB providers of a durable silo (schema: deploy/sql): grain state through Orleans' ADO.NET provider,
/// and the message log the grains see as <see cref="IMessageLog"/>.
/// </summary>
public static class MariaDbHosting
{
    // The ADO.NET invariant of MySqlConnector; referencing the package is registration enough.
    private const string MySqlInvariant = "MySql.Data.MySqlConnector";

    /// <summary>
    /// The connection strings a durable silo opens MariaDB connections with, one per MySqlConnector pool (a pool per
    /// distinct string): grain storage, then the message log with its health check, retention and start checks. Each
    /// pool holds up to the string's <c>Maximum Pool Size</c>, so a silo holds at most that many times the count.
    /// </summary>
    public static IReadOnlyList<string> PoolConnectionStrings(string connectionString) =>
        [connectionString, MariaDbMessageLog.ConnectionStringFor(connectionString)];

    /// <summary>Grain storage provider <paramref name="name"/> on the MariaDB database of <paramref name="connectionString"/>.</summary>
    public static ISiloBuilder AddMariaDbGrainStorage(this ISiloBuilder siloBuilder, string name, string connectionString)
    {
        // Grain state in Orleans' own binary format: types are named by their [Alias], so renaming a class or
        // moving an assembly does not orphan stored state (the JSON default writes CLR type names).
        siloBuilder.AddAdoNetGrainStorage(name, options => options.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = MySqlInvariant;
            o.ConnectionString = PoolConnectionStrings(connectionString)[0];
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        return siloBuilder;
    }

    /// <summary>
    /// <see cref="MariaDbMessageLog"/> as the silo's <see cref="IMessageLog"/> (options from section
    /// <c>Switchboard:MessageLog</c>), its retention sweep, and a <c>mariadb</c> health check tagged
    /// <paramref name="healthCheckTags"/> that reports an unreachable database as Degraded, never Unhealthy.
    /// </summary>
    public static ISiloBuilder AddMariaDbMessageLog(this ISiloBuilder siloBuilder, string connectionString, IEnumerable<string> healthCheckTags)
    {
        var services = siloBuilder.Services;
        services.AddOptions<MessageLogOptions>()
            .BindConfiguration(MessageLogOptions.SectionName)
            .Configure(o => o.ConnectionString = connectionString)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // A lifecycle service: its StartingAsync runs before any hosted service starts (the Orleans silo, Kestrel).
        services.AddHostedService<MariaDbStartupCheck>();
        services.AddSingleton<MariaDbLogEpoch>();
        services.AddSingleton<ILogEpoch>(sp => sp.GetRequiredService<MariaDbLogEpoch>());
        services.AddSingleton<MariaDbMessageLog>();
        services.AddSingleton<IMessageLog>(sp => sp.GetRequiredService<MariaDbMessageLog>());
        services.AddSingleton<MariaDbWarmUp>();
        services.AddHostedService<MessageLogRetention>();
        // A singleton: the check keeps its one ping in flight across probes (AddCheck<T> alone would make one per probe).
        services.AddSingleton<MessageLogHealthCheck>();
        services.AddHealthChecks().AddCheck<MessageLogHealthCheck>("mariadb", HealthStatus.Degraded, healthCheckTags);
        return siloBuilder;
    }
}
