using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// Real Redis and MariaDB servers (started here, on free ports, in temp dirs) and a fresh cluster id per
/// fixture; tests start and kill their own silo processes against them.
/// </summary>
public sealed class DurableClusterFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public MariaDbServer MariaDb { get; private set; } = null!;

    public string LogDirectory { get; } = Directory.CreateTempSubdirectory("sb-silos-").FullName;

    public async Task InitializeAsync()
    {
        var redis = RedisServer.StartAsync();
        var mariadb = MariaDbServer.StartAsync();
        Redis = await redis;
        MariaDb = await mariadb;
    }

    /// <summary>A cluster of its own: a fresh cluster id and database, so tests never see each other's silos or data.</summary>
    public async Task<DurableCluster> CreateClusterAsync()
    {
        var name = $"sb_{Guid.NewGuid():N}"[..16];
        var mysql = await MariaDb.CreateDatabaseAsync(name);
        return new DurableCluster(this, $"tests-{name}", mysql, name);
    }

    public async Task DisposeAsync()
    {
        await Redis.DisposeAsync();
        await MariaDb.DisposeAsync();
    }
}

/// <summary>One cluster's silos; disposing it kills whatever still runs.</summary>
public sealed class DurableCluster(DurableClusterFixture fixture, string baseClusterId, string mysql, string database) : IAsyncDisposable
{
    private readonly List<SiloProcess> _silos = [];
    private int _generation;

    public string ClusterId => _generation == 0 ? baseClusterId : $"{baseClusterId}-{_generation}";

    public string Database => database;

    /// <summary>The MySqlConnector connection string of this cluster's database.</summary>
    public string ConnectionString => mysql;

    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>The membership Redis, for Orleans clients of this cluster (the gateway).</summary>
    public string RedisConnectionString => fixture.Redis.ConnectionString;

    public async Task<SiloProcess> StartSiloAsync(string name, IDictionary<string, string?>? extra = null, TimeSpan? readyTimeout = null)
    {
        var silo = await SiloProcess.StartAsync(name, ClusterId, fixture.Redis.ConnectionString, mysql, fixture.LogDirectory, extra, readyTimeout);
        _silos.Add(silo);
        return silo;
    }

    /// <summary>After a whole-cluster stop: the next silos form a new cluster over the same storage.</summary>
    public void NewClusterId() => _generation++;

    public Task<string> QueryAsync(string sql) => fixture.MariaDb.QueryAsync(database, sql);

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DurableClusterCollection : ICollectionFixture<DurableClusterFixture>
{
    public const string Name = "durable cluster";
}
