using System.Net;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;
using Switchboard.Grains.Conversations;
using Switchboard.Grains.Conversations.MariaDb;
using Switchboard.Grains.Hosting;

namespace Switchboard.Silo.Hosting;

/// <summary>
/// Chooses the cluster's providers from configuration: with <c>ConnectionStrings:Redis</c> and
/// <c>ConnectionStrings:MySql</c> the durable cluster (Redis membership, MariaDB grain state and message
/// log); with neither, the embedded default (localhost clustering, memory).
/// </summary>
public static class ClusterProviders
{
    /// <summary>The ADO.NET invariant of MySqlConnector.</summary>
    public const string MySqlInvariant = "MySql.Data.MySqlConnector";

    public static bool IsDurable(IConfiguration configuration)
    {
        var redis = configuration.GetConnectionString("Redis");
        var mysql = configuration.GetConnectionString("MySql");
        if (string.IsNullOrWhiteSpace(redis) != string.IsNullOrWhiteSpace(mysql))
        {
            throw new InvalidOperationException(
                "Set both ConnectionStrings:Redis and ConnectionStrings:MySql for the durable cluster, or neither for the single-process default.");
        }

        return !string.IsNullOrWhiteSpace(redis);
    }

    public static void Configure(ISiloBuilder siloBuilder, IConfiguration configuration, SiloHostOptions silo, int siloPort, int gatewayPort)
    {
        siloBuilder.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = silo.ResponseTimeout);
        siloBuilder.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = silo.ProbeTimeout;
            o.MinProbeTimeout = TimeSpan.FromTicks(Math.Min(o.MinProbeTimeout.Ticks, silo.ProbeTimeout.Ticks));
        });
        if (!IsDurable(configuration))
        {
            siloBuilder.UseLocalhostClustering(siloPort, gatewayPort, serviceId: silo.ServiceId, clusterId: silo.ClusterId);
            siloBuilder.AddMemoryGrainStorage(StorageNames.Grains);
            siloBuilder.Services.TryAddSingleton<IMessageLog, InMemoryMessageLog>();
            return;
        }

        var redis = configuration.GetConnectionString("Redis")!;
        var mysql = configuration.GetConnectionString("MySql")!;
        siloBuilder.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = silo.ClusterId;
            o.ServiceId = silo.ServiceId;
        });
        siloBuilder.ConfigureEndpoints(IPAddress.Parse(silo.AdvertisedAddress), siloPort, gatewayPort, listenOnAnyHostAddress: silo.ListenOnAnyAddress);
        siloBuilder.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));

        // Grain state in Orleans' own binary format: types are named by their [Alias], so renaming a class or
        // moving an assembly does not orphan stored state (the JSON default writes CLR type names).
        siloBuilder.AddAdoNetGrainStorage(StorageNames.Grains, options => options.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = MySqlInvariant;
            o.ConnectionString = mysql;
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));

        var services = siloBuilder.Services;
        services.AddOptions<MessageLogOptions>()
            .BindConfiguration(MessageLogOptions.SectionName)
            .Configure(o => o.ConnectionString = mysql)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<MariaDbMessageLog>();
        services.AddSingleton<IMessageLog>(sp => sp.GetRequiredService<MariaDbMessageLog>());
        services.AddHostedService<MessageLogRetention>();
        services.AddHealthChecks().AddCheck<MessageLogHealthCheck>("mariadb", Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, tags: [Endpoints.HealthEndpoints.ReadyTag]);
    }
}
