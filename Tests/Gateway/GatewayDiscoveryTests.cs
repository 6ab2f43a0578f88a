using System.Diagnostics;
using System.Text.Json;
using Switchboard.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Switchboard.Tests.Gateway;

/// <summary>The gateway finds its destinations in the cluster's membership: silos come and go without a gateway restart.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class GatewayDiscoveryTests(DurableClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_gateway_started_before_any_silo_answers_503_until_a_silo_joins_then_serves()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await using var gateway = new GatewayFactory(cluster);
        using var api = gateway.Api();

        Assert.Equal(200, (await api.GetAsync("/health/live", null)).Status);
        Assert.Equal(503, (await api.GetAsync("/health/ready", null)).Status);
        Protocol.AssertProblem(await api.PostAsync("/api/dev/token", null, new { user = "alice" }), 503, "unavailable");
        Assert.Empty(gateway.Destinations);

        var started = Stopwatch.GetTimestamp();
        await cluster.StartSiloAsync("silo-1");
        await gateway.WaitForDestinationsAsync(["silo-1"]);
        output.WriteLine($"silo ready → published as a destination: {Stopwatch.GetElapsedTime(started).TotalSeconds:F2} s (silo start included)");

        await Wait.UntilAsync(async () => (await api.GetAsync("/health/ready", null)).Status == 200, "the gateway is ready");
        var alice = SiloHostFixture.NewId("alice");
        await using var socket = await gateway.ConnectAsync(await api.TokenAsync(alice));
        Assert.Equal("silo-1", socket.Welcome.Str("node"));
        await socket.PingAsync();
    }

    [Fact]
    public async Task A_silo_started_after_the_gateway_gets_new_connections_without_a_gateway_restart()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await cluster.StartSiloAsync("silo-1");
        await cluster.StartSiloAsync("silo-2");
        await using var gateway = new GatewayFactory(cluster);
        await gateway.WaitForDestinationsAsync(["silo-1", "silo-2"]);
        using var api = gateway.Api();
        var alice = SiloHostFixture.NewId("alice");
        await using var early = await gateway.ConnectAsync(await api.TokenAsync(alice));

        var started = Stopwatch.GetTimestamp();
        await cluster.StartSiloAsync("silo-3");
        var ready = Stopwatch.GetElapsedTime(started);
        await gateway.WaitForDestinationsAsync(["silo-1", "silo-2", "silo-3"]);
        output.WriteLine($"silo-3 ready after {ready.TotalSeconds:F2} s; in the gateway's destinations after {Stopwatch.GetElapsedTime(started).TotalSeconds:F2} s");

        var carol = SiloHostFixture.NewId("carol");
        await using var late = await gateway.ConnectToNodeAsync(await api.TokenAsync(carol), "silo-3");
        var reply = await late.SendMessageAsync($"user:{alice}", new { text = "from the new silo" });
        Assert.Equal("ack", reply.Type());
        await early.WaitForMessageAsync(reply.Str("conversation")!, 1);

        // The socket opened before silo-3 joined is the same one: the gateway was never restarted.
        await early.PingAsync();
    }

    [Fact]
    public async Task A_silo_killed_with_sigkill_leaves_the_destinations_and_its_clients_resume_through_the_gateway_without_loss()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await cluster.StartSiloAsync("survivor");
        var victim = await cluster.StartSiloAsync("victim");
        await using var gateway = new GatewayFactory(cluster);
        await gateway.WaitForDestinationsAsync(["survivor", "victim"]);
        using var api = gateway.Api();
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var bobToken = await api.TokenAsync(bob);
        await using var sender = await gateway.ConnectToNodeAsync(await api.TokenAsync(alice), "survivor");
        var bobOnVictim = await gateway.ConnectToNodeAsync(bobToken, "victim");
        var conversation = (await sender.SendMessageAsync($"user:{bob}", new { n = 0 }, id: "warm-up")).Str("conversation")!;
        await bobOnVictim.WaitForMessageAsync(conversation, 1);

        // Alice keeps sending; on 'unavailable' she retries the same id, as a real client does.
        var acked = new Dictionary<long, string>();
        using var stop = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                var id = $"m-{n}";
                while (true)
                {
                    var reply = await sender.RequestAsync(new { type = "send", id, to = $"user:{bob}", body = new { n } }, TimeSpan.FromSeconds(30));
                    if (reply.Type() == "ack")
                    {
                        lock (acked)
                        {
                            acked[reply.GetProperty("seq").GetInt64()] = id;
                        }

                        break;
                    }

                    Assert.Equal("unavailable", reply.Str("code"));
                    await Task.Delay(100);
                }

                await Task.Delay(20);
            }
        });

        await Wait.UntilAsync(() => AckedCount(acked) >= 10, "10 messages are acked before the kill", TimeSpan.FromSeconds(60));
        var killedAt = Stopwatch.GetTimestamp();
        victim.Kill();

        var removal = Task.Run(async () =>
        {
            await Wait.UntilAsync(() => gateway.Destinations.All(d => d.Name != "victim"), "the victim leaves the gateway's destinations", TimeSpan.FromSeconds(60));
            return Stopwatch.GetElapsedTime(killedAt);
        });
        await Task.WhenAny(bobOnVictim.Closed).WaitAsync(TimeSpan.FromSeconds(30));
        var socketDropped = Stopwatch.GetElapsedTime(killedAt);
        var (bobOnSurvivor, refusals) = await gateway.ConnectRetryingAsync(bobToken, TimeSpan.FromSeconds(60));
        await using var _ = bobOnSurvivor;
        var served = Stopwatch.GetElapsedTime(killedAt);
        Assert.Equal("survivor", bobOnSurvivor.Welcome.Str("node"));

        // Resume from what the old socket held, then let alice send more.
        var resumed = await bobOnSurvivor.RequestAsync(new { type = "resume", id = "r1", since = new Dictionary<string, long> { [conversation] = Contiguous(Held(bobOnVictim, conversation).Select(m => m.Seq)) } });
        Assert.Equal("ack", resumed.Type());
        var ackedAtReconnect = AckedCount(acked);
        await Wait.UntilAsync(() => AckedCount(acked) >= ackedAtReconnect + 10, "10 more messages are acked after the reconnect", TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await sending;
        var removedAfter = await removal;

        // A careful client closes any gap left by live delivery with one more resume.
        var maxAcked = acked.Keys.Max();
        var held = Held(bobOnVictim, conversation).Concat(Held(bobOnSurvivor, conversation)).ToList();
        var contiguous = Contiguous(held.Select(m => m.Seq));
        if (contiguous < maxAcked)
        {
            var final = await bobOnSurvivor.RequestAsync(new { type = "resume", id = "r2", since = new Dictionary<string, long> { [conversation] = contiguous } });
            Assert.True(final.GetProperty("recovered").GetBoolean());
            held = [.. Held(bobOnVictim, conversation).Concat(Held(bobOnSurvivor, conversation))];
        }

        var bySeq = held.GroupBy(m => m.Seq).ToDictionary(g => g.Key, g => g.Select(m => m.Id).Distinct().ToList());
        Assert.All(bySeq, entry => Assert.Single(entry.Value));
        Assert.Equal(Enumerable.Range(1, (int)maxAcked).Select(i => (long)i), bySeq.Keys.Where(k => k <= maxAcked).Order());
        foreach (var (seq, id) in acked)
        {
            Assert.Equal(id, bySeq[seq][0]);
        }

        output.WriteLine($"kill -9 → victim out of the gateway's destinations: {removedAfter.TotalSeconds:F2} s");
        output.WriteLine($"kill -9 → bob's socket through the gateway dropped: {socketDropped.TotalSeconds:F2} s");
        output.WriteLine($"kill -9 → bob's reconnect through the gateway served (welcome from the survivor): {served.TotalSeconds:F2} s; refused meanwhile (HTTP status × count): {string.Join(", ", refusals.Select(r => $"{r.Key}×{r.Value}"))}");
        output.WriteLine($"acked {acked.Count} messages, every one held by bob once, seq 1..{maxAcked} without gaps");
        await bobOnVictim.DisposeAsync();
    }

    private static int AckedCount(Dictionary<long, string> acked)
    {
        lock (acked)
        {
            return acked.Count;
        }
    }

    private static IEnumerable<(long Seq, string Id)> Held(SocketClient client, string conversation) =>
        client.Messages(conversation).Select(m => (m.GetProperty("seq").GetInt64(), m.GetProperty("id").GetString()!));

    private static long Contiguous(IEnumerable<long> seqs)
    {
        var set = seqs.ToHashSet();
        long n = 0;
        while (set.Contains(n + 1))
        {
            n++;
        }

        return n;
    }
}
