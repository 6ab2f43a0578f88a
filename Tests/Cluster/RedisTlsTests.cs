using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Cluster;

/// <summary>
/// Redis that speaks only TLS, as the reference deployment runs it: a silo keeps its membership there with
/// <c>ssl=true,sslHost=...</c> in <c>ConnectionStrings:Redis</c> and the internal CA named by
/// StackExchange.Redis' <c>SERedis_IssuerCertPath</c>; without either it does not start.
/// </summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class RedisTlsTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task A_silo_keeps_its_membership_in_a_TLS_only_Redis_that_it_checks_against_the_internal_CA()
    {
        using var ca = new TestCertificateAuthority("redis");
        await using var redis = await RedisServer.StartTlsAsync(ca.Issue("redis"));
        var database = $"sb_{Guid.NewGuid():N}"[..16];
        var mysql = await fixture.MariaDb.CreateDatabaseAsync(database);
        var trustCa = new Dictionary<string, string?> { ["SERedis_IssuerCertPath"] = ca.CaPath };

        await using var silo = await SiloProcess.StartAsync("silo-1", $"tests-{database}", redis.ConnectionString, mysql, fixture.LogDirectory, trustCa);
        var members = await ChildProcesses.RunAsync("redis-cli", ["-p", $"{redis.Port}", "--tls", "--cacert", ca.CaPath, "--scan", "--pattern", $"*tests-{database}*"]);
        Assert.False(string.IsNullOrWhiteSpace(members), "no membership key in the TLS Redis");

        // Not trusting the CA, or not speaking TLS: the silo never becomes ready.
        var untrusted = Assert.ThrowsAnyAsync<Exception>(() =>
            SiloProcess.StartAsync("untrusting", $"tests-{database}-b", redis.ConnectionString, mysql, fixture.LogDirectory, readyTimeout: TimeSpan.FromSeconds(20)));
        var plain = Assert.ThrowsAnyAsync<Exception>(() =>
            SiloProcess.StartAsync("plain", $"tests-{database}-c", $"127.0.0.1:{redis.Port}", mysql, fixture.LogDirectory, trustCa, TimeSpan.FromSeconds(20)));
        await Task.WhenAll(untrusted, plain);
    }
}
