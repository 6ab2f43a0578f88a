using System.Net;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using StackExchange.Redis;
using Switchboard.Grains.Conversations;
using Switchboard.Grains.Hosting;
using Switchboard.Persistence.MariaDb.Hosting;
using Switchboard.Silo.Endpoints;

namespace Switchboard.Silo.Hosting;

/// <summary>
/// Chooses the cluster's providers from configuration: with <c>ConnectionStrings:Redis</c> and
/// <c>ConnectionStrings:MySql</c> the durable cluster (Redis membership, MariaDB grain state and message
/// log); with neither, the embedded default (localhost clustering, memory).
/// </summary>
public static class ClusterProviders
{
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
            siloBuilder.Services.TryAddSingleton<InMemoryMessageLog>();
            siloBuilder.Services.TryAddSingleton<IMessageLog>(sp => sp.GetRequiredService<InMemoryMessageLog>());
            siloBuilder.Services.AddSingleton<ILogEpoch>(sp => sp.GetRequiredService<InMemoryMessageLog>());
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

        siloBuilder.AddMariaDbGrainStorage(StorageNames.Grains, mysql);
        siloBuilder.AddMariaDbMessageLog(mysql, healthCheckTags: [HealthEndpoints.ReadyTag]);
    }
}
