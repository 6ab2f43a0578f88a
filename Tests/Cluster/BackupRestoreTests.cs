using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Cluster;

/// <summary>
/// The backup and restore procedure of docs/operations.md as a drill: mariadb-dump --single-transaction --routines,
/// stop the silos, restore, deploy/sql/apply.sh, start the silos.
/// </summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class BackupRestoreTests(DurableClusterFixture fixture)
{
    private Task<string> Shell(string command) => ChildProcesses.RunAsync("bash", ["-c", command]);

    [Fact]
    public async Task A_restored_dump_brings_back_history_and_rewinds_seq_past_the_backup()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var socket = fixture.MariaDb.Socket;
        var dump = Path.Combine(fixture.LogDirectory, $"{cluster.Database}.sql");
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        string conversation;

        var before = await cluster.StartSiloAsync("before");
        using (var api = new ApiClient(before.BaseAddress))
        {
            await using var a = await SocketClient.ConnectAsync(before.BaseAddress, await api.TokenAsync(alice));
            for (var n = 1; n <= 3; n++)
            {
                Assert.Equal("ack", (await a.SendMessageAsync($"user:{bob}", new { n }, id: $"m-{n}")).Type());
            }

            // The backup, while the silo keeps writing: one consistent snapshot, procedures included.
            await Shell($"mariadb-dump --no-defaults --socket='{socket}' -uroot --single-transaction --routines --databases {cluster.Database} > '{dump}'");
            var late = await a.SendMessageAsync($"user:{bob}", new { n = 4 }, id: "m-4");
            Assert.Equal(4, late.GetProperty("seq").GetInt64());
            conversation = late.Str("conversation")!;
        }

        await before.StopAsync();
        await fixture.MariaDb.QueryAsync("mysql", $"DROP DATABASE {cluster.Database}");
        await Shell($"mariadb --no-defaults --socket='{socket}' -uroot < '{dump}'");
        var applied = await ChildProcesses.RunAsync("bash", [Path.Combine(ChildProcesses.RepositoryRoot(), "deploy", "sql", "apply.sh"), cluster.Database, $"--socket={socket}", "-uroot"]);
        Assert.DoesNotContain("->", applied, StringComparison.Ordinal);

        cluster.NewClusterId();
        var after = await cluster.StartSiloAsync("after");
        using var restored = new ApiClient(after.BaseAddress);
        var token = await restored.TokenAsync(alice);
        var (_, history) = await restored.GetAsync($"/api/conversations/{conversation}/messages?after=0", token);
        Assert.Equal(["m-1", "m-2", "m-3"], history.EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray());

        // What the backup missed is gone, and its seq is given again to another message: clients that cached
        // (conversation, seq) must drop their cache after a restore (docs/operations.md).
        await using var again = await SocketClient.ConnectAsync(after.BaseAddress, token);
        var next = await again.SendMessageAsync($"user:{bob}", new { n = 5 }, id: "m-5");
        Assert.Equal(4, next.GetProperty("seq").GetInt64());
    }
}
