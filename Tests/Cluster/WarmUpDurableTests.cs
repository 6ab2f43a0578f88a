using Switchboard.Persistence.MariaDb;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>
/// A durable silo's warm-up against a real MariaDB (a silo process): it runs before the silo reports ready, and it
/// leaves no trace a user or the log could show: no message, no list row, no read marker, no grain state.
/// </summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class WarmUpDurableTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task A_silo_warms_up_its_database_and_grains_before_it_is_ready_and_leaves_nothing_any_user_can_see()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var silo = await cluster.StartSiloAsync("warm-1", new Dictionary<string, string?> { ["Switchboard__WarmUp__Enabled"] = "true" });

        // Done with every step (the line is logged before readiness turns 200; the file may trail it a moment).
        await Wait.UntilAsync(() => Log(silo).Contains("[3201]", StringComparison.Ordinal), "the warm-up's done line");
        var done = Log(silo).Split('\n').First(l => l.Contains("[3201]", StringComparison.Ordinal));
        Assert.Contains("database", done, StringComparison.Ordinal);
        Assert.Contains("grains", done, StringComparison.Ordinal);
        Assert.DoesNotContain("[3202]", Log(silo), StringComparison.Ordinal);
        Assert.DoesNotContain("[3203]", Log(silo), StringComparison.Ordinal);

        // The dry-run first message was rolled back, the scratch users' activations only read.
        // (The token-revocation grain stores its subscribers when a silo starts, warm-up or not: no other grain state.)
        foreach (var table in new[] { "sb_messages", "sb_user_conversations", "sb_read_markers", "OrleansStorage WHERE GrainTypeString <> 'revocations'" })
        {
            var rows = (await cluster.QueryAsync($"SELECT COUNT(*) FROM {table}")).Trim();
            Assert.True(rows == "0", $"{table}: {rows} rows");
        }

        // Nobody can name the scratch users or their conversation, not even an admin.
        using var api = new ApiClient(silo.BaseAddress);
        var admin = await api.TokenAsync(SiloHostFixture.NewId("root"), "admin");
        var scratch = MariaDbMessageLog.WarmUpUserA.Value;
        Assert.Equal(400, (await api.GetAsync($"/api/users/{Uri.EscapeDataString(scratch)}/conversations", admin)).Status);
        var history = await api.GetAsync($"/api/conversations/{Uri.EscapeDataString(MariaDbMessageLog.WarmUpConversation.Value)}/messages", admin);
        Assert.NotEqual(200, history.Status);

        // A real user's first look at their list finds it empty.
        var alice = SiloHostFixture.NewId("alice");
        var list = await api.GetAsync($"/api/users/{alice}/conversations", await api.TokenAsync(alice));
        Assert.Equal(200, list.Status);
        Assert.Equal(0, list.Body.GetArrayLength());
    }

    private static string Log(Infrastructure.Servers.SiloProcess silo)
    {
        using var stream = new FileStream(silo.LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }
}
