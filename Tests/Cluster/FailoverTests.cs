using System.Diagnostics;
using System.Text.Json;
using Switchboard.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Switchboard.Tests.Cluster;

[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class FailoverTests(DurableClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_the_recipients_silo_with_sigkill_loses_no_acked_message()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var survivor = await cluster.StartSiloAsync("survivor");
        var victim = await cluster.StartSiloAsync("victim");
        using var api = new ApiClient(survivor.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");

        // Bob's grain sequences the conversation, and bob connects (and speaks) first on the victim, so the
        // sequencer lives there: the drill then also covers sends that hit a grain being recovered.
        var bob = UserIds.OwningDirectConversationWith(alice, "bob");
        var aliceToken = await api.TokenAsync(alice);
        var bobToken = await api.TokenAsync(bob);
        var bobOnVictim = await SocketClient.ConnectAsync(victim.BaseAddress, bobToken);
        await using var sender = await SocketClient.ConnectAsync(survivor.BaseAddress, aliceToken);
        var conversation = (await bobOnVictim.SendMessageAsync($"user:{alice}", new { n = 0 }, id: "warm-up")).Str("conversation")!;
        await sender.WaitForMessageAsync(conversation, 1);

        var acked = new Dictionary<long, string>();
        var stop = new CancellationTokenSource();
        var killedAt = 0L;
        var firstAckAfterKill = 0L;
        var unavailable = 0;
        var sending = Task.Run(async () =>
        {
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                var id = $"m-{n}";
                var issued = Stopwatch.GetTimestamp();
                while (true)
                {
                    // A real client: on 'unavailable' it retries the same id until the cluster takes it.
                    // Up to the silo's response timeout (10 s) when the call hits a grain on the dead silo.
                    var reply = await sender.RequestAsync(new { type = "send", id, to = $"user:{bob}", body = new { n } }, TimeSpan.FromSeconds(30));
                    if (reply.Type() == "ack")
                    {
                        lock (acked)
                        {
                            acked[reply.GetProperty("seq").GetInt64()] = id;
                        }

                        if (killedAt != 0 && issued > killedAt && firstAckAfterKill == 0)
                        {
                            firstAckAfterKill = Stopwatch.GetTimestamp();
                        }

                        break;
                    }

                    Assert.Equal("unavailable", reply.Str("code"));
                    Interlocked.Increment(ref unavailable);
                    await Task.Delay(100);
                }
            }
        });

        await Wait.UntilAsync(() => { lock (acked) { return acked.Count >= 20; } }, "20 messages are acked before the kill", TimeSpan.FromSeconds(60));
        var heldBeforeKill = bobOnVictim.Messages(conversation).Select(m => m.GetProperty("seq").GetInt64()).DefaultIfEmpty(0).Max();
        killedAt = Stopwatch.GetTimestamp();
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} kill -9 {victim.Name} (pid {victim.ProcessId}); survivor log: {survivor.LogFile}");
        victim.Kill();

        // The survivor's view of bob: offline once membership declares the victim dead.
        await Wait.UntilAsync(async () =>
        {
            var (status, presence) = await api.GetAsync($"/api/users/{bob}/presence", bobToken);
            return status == 200 && !presence.GetProperty("online").GetBoolean();
        }, "bob's presence drops the dead silo's connection", TimeSpan.FromSeconds(60));
        var presenceRight = Stopwatch.GetElapsedTime(killedAt);
        await Wait.UntilAsync(() => firstAckAfterKill != 0, "a send issued after the kill is acked", TimeSpan.FromSeconds(60));
        var sendsOk = Stopwatch.GetElapsedTime(killedAt, firstAckAfterKill);

        // Bob reconnects to the survivor and resumes from what he held.
        await using var bobOnSurvivor = await SocketClient.ConnectAsync(survivor.BaseAddress, bobToken);
        var resumed = await bobOnSurvivor.RequestAsync(new { type = "resume", id = "r1", since = new Dictionary<string, long> { [conversation] = heldBeforeKill } });
        Assert.Equal("ack", resumed.Type());
        var ackedAtReconnect = acked.Count;
        await Wait.UntilAsync(() => { lock (acked) { return acked.Count >= ackedAtReconnect + 20; } }, "20 more messages are acked after the reconnect", TimeSpan.FromSeconds(60));
        stop.Cancel();
        await sending;

        // A retry of an id acked before the kill is stored once: same seq, no new row.
        var firstId = acked.OrderBy(a => a.Key).First();
        var retried = await sender.SendMessageAsync($"user:{bob}", new { n = "again" }, firstId.Value);
        Assert.Equal(firstId.Key, retried.GetProperty("seq").GetInt64());

        // A careful client closes any gap with one more resume; then it holds every acked message, once, in order.
        var maxAcked = acked.Keys.Max();
        var held = Held(bobOnVictim, conversation).Concat(Held(bobOnSurvivor, conversation)).Append((Seq: 1L, Id: "warm-up")).ToList();
        var contiguous = Contiguous(held.Select(m => m.Seq));
        if (contiguous < maxAcked)
        {
            var final = await bobOnSurvivor.RequestAsync(new { type = "resume", id = "r2", since = new Dictionary<string, long> { [conversation] = contiguous } });
            Assert.True(final.GetProperty("recovered").GetBoolean());
            held = Held(bobOnVictim, conversation).Concat(Held(bobOnSurvivor, conversation)).Append((Seq: 1L, Id: "warm-up")).ToList();
        }

        var bySeq = held.GroupBy(m => m.Seq).ToDictionary(g => g.Key, g => g.Select(m => m.Id).Distinct().ToList());
        Assert.All(bySeq, entry => Assert.Single(entry.Value));
        Assert.Equal(Enumerable.Range(1, (int)maxAcked).Select(i => (long)i), bySeq.Keys.Where(k => k <= maxAcked).Order());
        foreach (var (seq, id) in acked)
        {
            Assert.Equal(id, bySeq[seq][0]);
        }

        var counts = (await cluster.QueryAsync($"SELECT COUNT(*), COUNT(DISTINCT request_id) FROM sb_messages WHERE conversation = '{conversation}'")).Split('\t', StringSplitOptions.TrimEntries);
        Assert.Equal(counts[0], counts[1]);
        Assert.Equal(maxAcked, long.Parse(counts[0], System.Globalization.CultureInfo.InvariantCulture));

        output.WriteLine($"kill -9 → survivor's presence right: {presenceRight.TotalSeconds:F2} s; → first send issued after the kill acked: {sendsOk.TotalSeconds:F2} s");
        output.WriteLine($"acked {acked.Count} messages; {unavailable} 'unavailable' answers retried with the same id");
        await bobOnVictim.DisposeAsync();
    }

    [Fact]
    public async Task Group_messages_reach_the_survivors_sockets_live_right_after_a_silo_dies_without_any_reconnect()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        // No re-announcement on a silo's death: what is proven here is that the group grains themselves remember
        // which silos subscribed (the periodic renewal, 60 s, is far beyond the deadlines below).
        var noReannounce = new Dictionary<string, string?> { ["Switchboard__Routing__ReannounceOnSiloDeath"] = "false" };
        var survivor = await cluster.StartSiloAsync("survivor", noReannounce);
        var victim = await cluster.StartSiloAsync("victim", noReannounce);
        using var api = new ApiClient(survivor.BaseAddress);
        var teacher = SiloHostFixture.NewId("teacher");
        var student = SiloHostFixture.NewId("student");
        var teacherToken = await api.TokenAsync(teacher, "teacher");

        // Several groups, created through the victim: with random placement some group grains live there.
        var groups = Enumerable.Range(0, 6).Select(i => SiloHostFixture.NewId($"g{i}")).ToList();
        using var viaVictim = new ApiClient(victim.BaseAddress);
        foreach (var group in groups)
        {
            Assert.Equal(201, (await viaVictim.PutAsync($"/api/groups/{group}", teacherToken, new { policy = "open" })).Status);
            Assert.Equal(200, (await viaVictim.PutAsync($"/api/groups/{group}/members/{student}", teacherToken, new { role = "member" })).Status);
        }

        await using var listener = await SocketClient.ConnectAsync(survivor.BaseAddress, await api.TokenAsync(student));
        await using var poster = await SocketClient.ConnectAsync(survivor.BaseAddress, teacherToken);
        foreach (var group in groups)
        {
            Assert.Equal("ack", (await poster.SendMessageAsync($"group:{group}", new { before = true })).Type());
            await listener.WaitForMessageAsync($"group:{group}", 1);
        }

        victim.Kill();
        var killedAt = Stopwatch.GetTimestamp();

        // The student never reconnects. Group grains that lived on the victim come back elsewhere still knowing
        // the surviving silos subscribed to them (kept in their state), so the first post after the kill is
        // delivered live; a post is retried with its id while the cluster answers 'unavailable'.
        var acked = groups.ToDictionary(g => g, _ => new List<long>());
        foreach (var group in groups)
        {
            var conversation = $"group:{group}";
            JsonElement reply;
            do
            {
                Assert.True(Stopwatch.GetElapsedTime(killedAt) < TimeSpan.FromSeconds(60), $"a post to {conversation} was not acked within 60 s");
                reply = await poster.RequestAsync(new { type = "send", id = $"{group}-after", to = conversation, body = new { after = true } }, TimeSpan.FromSeconds(30));
            }
            while (reply.Type() != "ack");

            var seq = reply.GetProperty("seq").GetInt64();
            Assert.Equal(2, seq);
            acked[group].Add(seq);
            await listener.WaitForMessageAsync(conversation, seq, TimeSpan.FromSeconds(10));
        }

        var live = Stopwatch.GetElapsedTime(killedAt);

        // Whatever was not delivered live, resume delivers: nothing acked is lost.
        var since = groups.ToDictionary(g => $"group:{g}", _ => 1L);
        var resumed = await listener.RequestAsync(new { type = "resume", id = "after-failover", since });
        Assert.True(resumed.GetProperty("recovered").GetBoolean());
        foreach (var group in groups)
        {
            var held = listener.Messages($"group:{group}").Select(m => m.GetProperty("seq").GetInt64()).ToHashSet();
            Assert.All(acked[group], seq => Assert.Contains(seq, held));
        }

        output.WriteLine($"the first post to each of {groups.Count} groups after the kill reached the survivor's socket live; all done {live.TotalSeconds:F2} s after the kill");
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
