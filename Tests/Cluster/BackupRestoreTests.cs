using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Cluster;

/// <summary>
/// The backup and restore procedure of docs/operations.md as a drill: mariadb-dump --single-transaction --routines,
/// stop the silos, deploy/sql/restore.sh (load, migrate, new epoch), start the silos.
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

        string epoch;
        var before = await cluster.StartSiloAsync("before");
        using (var api = new ApiClient(before.BaseAddress))
        {
            await using var a = await SocketClient.ConnectAsync(before.BaseAddress, await api.TokenAsync(alice));
            epoch = a.Welcome.Str("epoch")!;
            Assert.Matches("^[0-9a-f]{32}$", epoch);
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

        // A restart is not a restore: the epoch stays.
        await before.StopAsync();
        var restarted = await cluster.StartSiloAsync("restarted");
        using (var api = new ApiClient(restarted.BaseAddress))
        {
            await using var a = await SocketClient.ConnectAsync(restarted.BaseAddress, await api.TokenAsync(alice));
            Assert.Equal(epoch, a.Welcome.Str("epoch"));
        }

        await restarted.StopAsync();
        var output = await ChildProcesses.RunAsync("bash", [Path.Combine(ChildProcesses.RepositoryRoot(), "deploy", "sql", "restore.sh"), dump, cluster.Database, $"--socket={socket}", "-uroot"]);
        Assert.Contains("restore.sh: epoch ", output, StringComparison.Ordinal);

        cluster.NewClusterId();
        var after = await cluster.StartSiloAsync("after");
        using var restored = new ApiClient(after.BaseAddress);
        var token = await restored.TokenAsync(alice);
        var (_, history) = await restored.GetAsync($"/api/conversations/{conversation}/messages?after=0", token);
        Assert.Equal(["m-1", "m-2", "m-3"], history.EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray());

        // What the backup missed is gone, and its seq is given again to another message: the new epoch, in welcome
        // and on every REST reply, tells clients to drop the seqs they hold and resume from 0.
        await using var again = await SocketClient.ConnectAsync(after.BaseAddress, token);
        var newEpoch = again.Welcome.Str("epoch");
        Assert.Matches("^[0-9a-f]{32}$", newEpoch);
        Assert.NotEqual(epoch, newEpoch);
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/users/{alice}/conversations"))
        {
            request.Headers.Authorization = new("Bearer", token);
            using var response = await restored.Http.SendAsync(request);
            Assert.Equal(newEpoch, response.Headers.GetValues("Switchboard-Epoch").Single());
        }

        var next = await again.SendMessageAsync($"user:{bob}", new { n = 5 }, id: "m-5");
        Assert.Equal(4, next.GetProperty("seq").GetInt64());
    }
}
