using System.Globalization;
using System.Net.WebSockets;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Cluster;

[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class DrainAndOutageTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task A_silo_stopped_with_sigterm_closes_its_sockets_with_1012_and_clients_resume_elsewhere_without_loss()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var stays = await cluster.StartSiloAsync("stays");
        var leaves = await cluster.StartSiloAsync("leaves");
        using var api = new ApiClient(stays.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var sender = await SocketClient.ConnectAsync(stays.BaseAddress, await api.TokenAsync(alice));
        var bobToken = await api.TokenAsync(bob);
        await using var bobFirst = await SocketClient.ConnectAsync(leaves.BaseAddress, bobToken);

        var acked = new List<long>();
        for (var n = 0; n < 10; n++)
        {
            acked.Add((await sender.SendMessageAsync($"user:{bob}", new { n })).GetProperty("seq").GetInt64());
        }

        var conversation = (await sender.SendMessageAsync($"user:{bob}", new { n = 10 })).Str("conversation")!;
        acked.Add(11);
        var stopping = leaves.StopAsync();
        Assert.Equal((WebSocketCloseStatus)1012, await bobFirst.WaitForCloseAsync(TimeSpan.FromSeconds(15)));
        await stopping;

        // Sends go on while bob is away; then he reconnects to the other silo and resumes from what he held.
        for (var n = 11; n < 20; n++)
        {
            var reply = await sender.SendMessageAsync($"user:{bob}", new { n }, id: $"after-{n}");
            while (reply.Type() != "ack")
            {
                Assert.Equal("unavailable", reply.Str("code"));
                reply = await sender.SendMessageAsync($"user:{bob}", new { n }, id: $"after-{n}");
            }

            acked.Add(reply.GetProperty("seq").GetInt64());
        }

        var held = bobFirst.Messages(conversation).Select(m => m.GetProperty("seq").GetInt64()).ToList();
        await using var bobAgain = await SocketClient.ConnectAsync(stays.BaseAddress, bobToken);
        var resume = await bobAgain.RequestAsync(new { type = "resume", id = "r", since = new Dictionary<string, long> { [conversation] = held.DefaultIfEmpty(0).Max() } });
        Assert.True(resume.GetProperty("recovered").GetBoolean());
        var all = held.Concat(bobAgain.Messages(conversation).Select(m => m.GetProperty("seq").GetInt64())).Distinct().Order().ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), all);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), acked.Order());
    }

    [Fact]
    public async Task A_stalled_database_answers_unavailable_and_the_retried_id_is_stored_once()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var silo = await cluster.StartSiloAsync("only");
        using var api = new ApiClient(silo.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var sender = await SocketClient.ConnectAsync(silo.BaseAddress, await api.TokenAsync(alice));
        var first = await sender.SendMessageAsync($"user:{bob}", new { n = 1 });
        var conversation = first.Str("conversation")!;

        var pid = fixture.MariaDb.ProcessId.ToString(CultureInfo.InvariantCulture);
        await ChildProcesses.RunAsync("kill", ["-STOP", pid]);
        try
        {
            // The grain call gives up after the silo's response timeout (10 s): the client hears 'unavailable'.
            var stalled = await sender.RequestAsync(new { type = "send", id = "during-outage", to = $"user:{bob}", body = new { n = 2 } }, TimeSpan.FromSeconds(30));
            Assert.Equal("error", stalled.Type());
            Assert.Equal("unavailable", stalled.Str("code"));
            Assert.Equal(WebSocketState.Open, sender.State);

            // Readiness stays 200 with the database as a Degraded detail, and answers well inside the gateway's
            // 1 s probe timeout: a slow probe would make the gateway count every silo failed at once.
            using var http = new HttpClient { BaseAddress = silo.BaseAddress };
            for (var probe = 0; probe < 3; probe++)
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                using var ready = await http.GetAsync("/health/ready");
                var elapsed = watch.Elapsed;
                Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
                Assert.Equal("Degraded", await ready.Content.ReadAsStringAsync());
                Assert.True(elapsed < TimeSpan.FromMilliseconds(900), $"/health/ready took {elapsed.TotalMilliseconds:0} ms with MariaDB stalled");
            }
        }
        finally
        {
            await ChildProcesses.RunAsync("kill", ["-CONT", pid]);
        }

        // As a client does: retry the same id until it is acked (the stalled write may land meanwhile).
        System.Text.Json.JsonElement retried;
        var attempts = 0;
        do
        {
            retried = await sender.RequestAsync(new { type = "send", id = "during-outage", to = $"user:{bob}", body = new { n = 2 } }, TimeSpan.FromSeconds(30));
        }
        while (retried.Type() != "ack" && ++attempts < 5);

        Assert.Equal("ack", retried.Type());
        Assert.Equal(2, retried.GetProperty("seq").GetInt64());
        var rows = await cluster.QueryAsync($"SELECT COUNT(*) FROM sb_messages WHERE conversation = '{conversation}'");
        Assert.Equal("2", rows.Trim());
    }
}
