using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;
using Switchboard.Grains.Conversations;
using Switchboard.Grains.Hosting;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Hosting;

namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// A 2-silo in-process TestCluster with in-memory storage and each silo's own connection registry and
/// sink, as the silo host wires them. Tests attach <see cref="TestConnection"/>s to a chosen silo.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    /// <summary>The log every silo of this cluster shares, as silos share MariaDB in production.</summary>
    public static InMemoryMessageLog Log { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(2);
        builder.Options.ClusterId = $"tests-{Guid.NewGuid():N}";
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    public IServiceProvider SiloServices(int index) => ((InProcessSiloHandle)Cluster.Silos[index]).ServiceProvider;

    public ConnectionRouter Router(int index) => SiloServices(index).GetRequiredService<ConnectionRouter>();

    public ConnectionRegistry Registry(int index) => SiloServices(index).GetRequiredService<ConnectionRegistry>();

    public SiloConnectionSink Sink(int index) => SiloServices(index).GetRequiredService<SiloConnectionSink>();

    /// <summary>Opens a fake socket for <paramref name="user"/> on silo <paramref name="silo"/>.</summary>
    public async Task<TestConnection> ConnectAsync(string user, int silo)
    {
        var connection = new TestConnection(user);
        await Router(silo).AttachAsync(connection, maxConnectionsPerUser: 0);
        return connection;
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddSwitchboardInMemory(Log);

            // The grains' storage with faults tests can plan (FaultyGrainStorage.FailWrites); none unless planned.
            siloBuilder.AddMemoryGrainStorage(InnerStorage);
            siloBuilder.Services.AddKeyedSingleton<IGrainStorage>(
                StorageNames.Grains,
                (services, _) => new FaultyGrainStorage(services.GetRequiredKeyedService<IGrainStorage>(InnerStorage)));
        }

        private const string InnerStorage = "switchboard-inner";
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "two-silo cluster";
}
