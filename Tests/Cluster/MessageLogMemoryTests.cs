using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;
using Xunit.Abstractions;

namespace Switchboard.Tests.Cluster;

/// <summary>The MariaDB log under hostile load: pages bounded in bytes, a bounded append backlog, a list of 70,000 groups.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class MessageLogMemoryTests(DurableClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private async Task<(MariaDbMessageLog Log, DurableCluster Cluster)> CreateAsync(Action<MessageLogOptions>? configure = null, ILogger<MariaDbMessageLog>? logger = null)
    {
        var cluster = await fixture.CreateClusterAsync();
        var options = new MessageLogOptions { ConnectionString = cluster.ConnectionString, MaxBatch = 64, Writers = 2 };
        configure?.Invoke(options);
        return (new MariaDbMessageLog(Options.Create(options), logger ?? NullLogger<MariaDbMessageLog>.Instance), cluster);
    }

    private static ConversationId NewGroup(string name) => ConversationId.ForGroup(new GroupId($"{name}-{Guid.NewGuid():N}"));

    private static StoredMessage Message(ConversationId group, long seq, string requestId, int bodyBytes = 0)
    {
        Recipient.TryParse(group.Value, out var to);
        var body = bodyBytes == 0 ? Encoding.UTF8.GetBytes($"{{\"n\":{seq}}}") : Encoding.UTF8.GetBytes($"\"{new string('x', bodyBytes - 2)}\"");
        return new StoredMessage(group, seq, new UserId("alice"), to, requestId, body, Now);
    }

    private static async Task AppendAllAsync(IMessageLog log, ConversationId group, int count, int bodyBytes)
    {
        for (var start = 1; start <= count; start += 64)
        {
            await Task.WhenAll(Enumerable.Range(start, Math.Min(64, count - start + 1))
                .Select(seq => log.AppendAsync(Message(group, seq, $"{group.Value}-{seq}", bodyBytes)).AsTask()));
        }
    }

    [Fact]
    public async Task A_page_stops_at_its_byte_budget_and_paging_on_from_its_last_seq_reads_every_message()
    {
        var (log, _) = await CreateAsync();
        await using var _log = log;
        var group = NewGroup("big");
        await AppendAllAsync(log, group, 10, bodyBytes: 40_000);

        var first = await log.ReadAsync(group, after: 0, limit: 1000, maxBytes: 100_000);
        var alone = await log.ReadAsync(group, after: 0, limit: 1000, maxBytes: 1);
        var seqs = new List<long>();
        HistoryPage page;
        var after = 0L;
        var reads = 0;
        do
        {
            page = await log.ReadAsync(group, after, limit: 1000, maxBytes: 100_000);
            seqs.AddRange(page.Messages.Select(m => m.Seq));
            after = page.Messages.Count > 0 ? page.Messages[^1].Seq : after;
            reads++;
        }
        while (page.More);

        Assert.Equal([1L, 2L], first.Messages.Select(m => m.Seq));
        Assert.True(first.More);
        Assert.True(first.Complete);
        Assert.Equal([1L], alone.Messages.Select(m => m.Seq));
        Assert.True(alone.More);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), seqs);
        Assert.Equal(5, reads);
    }

    [Theory]
    [InlineData(31, true)]
    [InlineData(32, true)]
    [InlineData(96, true)]
    [InlineData(99, true)]
    [InlineData(100, false)]
    [InlineData(1000, false)]
    public async Task A_page_of_small_bodies_read_in_several_chunks_keeps_its_limit_and_more(int limit, bool more)
    {
        var (log, _) = await CreateAsync();
        await using var _log = log;
        var group = NewGroup("small");
        await AppendAllAsync(log, group, 100, bodyBytes: 0);

        var page = await log.ReadAsync(group, after: 0, limit, maxBytes: 1024 * 1024);

        Assert.Equal(Enumerable.Range(1, Math.Min(limit, 100)).Select(i => (long)i), page.Messages.Select(m => m.Seq));
        Assert.Equal(more, page.More);
        Assert.True(page.Complete);
    }

    [Fact]
    public async Task Fifty_parallel_reads_of_64_KiB_bodies_hold_about_their_budget_each()
    {
        var (log, _) = await CreateAsync();
        await using var _log = log;
        var group = NewGroup("heavy");
        await AppendAllAsync(log, group, 1000, bodyBytes: 64 * 1024);

        var bounded = await MeasureAsync(log, group, 1024 * 1024);
        output.WriteLine($"50 parallel reads of 1,000 x 64 KiB, budget 1 MiB: {bounded}");
        if (Environment.GetEnvironmentVariable("SB_MEASURE_UNBOUNDED") == "1")
        {
            output.WriteLine($"50 parallel reads of 1,000 x 64 KiB, unbounded (as before): {await MeasureAsync(log, group, long.MaxValue)}");
        }

        Assert.Equal(16, bounded.Rows / 50);
        Assert.True(bounded.Held < 50 * 2 * 1024 * 1024, $"{bounded.Held} bytes held by 50 pages of a 1 MiB budget");
    }

    private static async Task<Measurement> MeasureAsync(MariaDbMessageLog log, ConversationId group, long maxBytes)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                await Task.Yield();
            }
        });
        var watch = Stopwatch.StartNew();
        var pages = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => log.ReadAsync(group, 0, 1000, maxBytes).AsTask()));
        var elapsed = watch.Elapsed;
        var held = GC.GetTotalMemory(forceFullCollection: true) - baseline;
        await sampling.CancelAsync();
        await sampler;
        var rows = pages.Sum(p => p.Messages.Count);
        GC.KeepAlive(pages);
        return new Measurement(rows, held, Math.Max(peak - baseline, held), elapsed);
    }

    private sealed record Measurement(int Rows, long Held, long Peak, TimeSpan Elapsed)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Rows} rows, {Held / 1048576.0:F1} MiB held by the pages, managed heap peak +{Peak / 1048576.0:F1} MiB, {Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_full_backlog_refuses_appends_at_once_and_a_refused_append_is_never_stored()
    {
        var logs = new CapturedLogs();
        using var loggers = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var (log, cluster) = await CreateAsync(o => { o.Writers = 1; o.MaxBacklog = 5; o.MaxBacklogBytes = 100_000; }, loggers.CreateLogger<MariaDbMessageLog>());
        await using var _log = log;
        await log.AppendAsync(Message(NewGroup("warm"), 1, $"warm-{Guid.NewGuid():N}"));
        var run = Guid.NewGuid().ToString("N");
        var accepted = Enumerable.Range(0, 4).Select(i => Message(NewGroup("ok"), 1, $"ok-{run}-{i}")).ToList();
        var tooBig = Message(NewGroup("big"), 1, $"big-{run}", bodyBytes: 150_000);
        var gaveUp = Message(NewGroup("late"), 1, $"late-{run}");
        var overCount = Enumerable.Range(0, 3).Select(i => Message(NewGroup("over"), 1, $"over-{run}-{i}")).ToList();

        var pid = fixture.MariaDb.ProcessId.ToString(CultureInfo.InvariantCulture);
        await ChildProcesses.RunAsync("kill", ["-STOP", pid]);
        Task[] appends;
        Task abandoned;
        try
        {
            appends = accepted.Select(m => log.AppendAsync(m).AsTask()).ToArray();
            var refusedForBytes = log.AppendAsync(tooBig).AsTask();
            using var caller = new CancellationTokenSource();
            abandoned = log.AppendAsync(gaveUp, caller.Token).AsTask();
            await caller.CancelAsync();
            var refusedForCount = overCount.Select(m => log.AppendAsync(m).AsTask()).ToList();

            // Refused at once, while the database is still stopped: nothing waits for it.
            Assert.IsType<MessageLogFullException>(refusedForBytes.Exception?.InnerException);
            Assert.All(refusedForCount, t => Assert.IsType<MessageLogFullException>(t.Exception?.InnerException));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
            Assert.Equal(5, log.Backlog);
            Assert.Equal(4, log.Refused);
            Assert.Single(logs.Lines, l => l.Contains("[4005]", StringComparison.Ordinal));
            Assert.All(appends, t => Assert.False(t.IsCompleted));
        }
        finally
        {
            await ChildProcesses.RunAsync("kill", ["-CONT", pid]);
        }

        await Task.WhenAll(appends);
        await Wait.UntilAsync(() => log.Backlog == 0, "the abandoned append leaves the backlog", TimeSpan.FromSeconds(30));
        var stored = (await cluster.QueryAsync($"SELECT request_id FROM sb_messages WHERE request_id LIKE '%{run}%'"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();

        Assert.Subset(stored, accepted.Select(m => m.RequestId).ToHashSet());
        Assert.DoesNotContain(tooBig.RequestId, stored);
        Assert.All(overCount, m => Assert.DoesNotContain(m.RequestId, stored));
        // Its caller gave up, yet it was queued: it commits, and the retry with its id is answered as a duplicate.
        Assert.Contains(gaveUp.RequestId, stored);
        await Assert.ThrowsAsync<DuplicateRequestException>(() => log.AppendAsync(gaveUp with { Seq = 2 }).AsTask());
        // Room again once the backlog drained.
        await log.AppendAsync(overCount[0]);
    }

    [Fact]
    public async Task A_silo_whose_backlog_is_full_answers_503_with_Retry_After_and_never_stores_the_refused_send()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var silo = await cluster.StartSiloAsync("small-backlog", new Dictionary<string, string?> { ["Switchboard__MessageLog__MaxBacklog"] = "1" });
        using var api = new ApiClient(silo.BaseAddress);
        var bob = SiloHostFixture.NewId("bob");
        var senders = new[] { SiloHostFixture.NewId("alice"), SiloHostFixture.NewId("carol") };
        var tokens = await Task.WhenAll(senders.Select(s => api.TokenAsync(s)));
        // Warm: each sender's grain and conversation know their latest seq, so the sends below only append.
        foreach (var token in tokens)
        {
            Assert.Equal(200, (await api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = 0 })).Status);
        }

        var pid = fixture.MariaDb.ProcessId.ToString(CultureInfo.InvariantCulture);
        await ChildProcesses.RunAsync("kill", ["-STOP", pid]);
        Task<HttpResponseMessage>[] sends;
        HttpResponseMessage refused;
        try
        {
            // One append fits the backlog and waits for the stopped database; the other is refused at once.
            sends = tokens.Select((token, i) => Post(api, token, new { to = $"user:{bob}", body = 1, id = $"during-stall-{i}" })).ToArray();
            // At once: well before the grain call's own timeout (10 s) would answer unavailable anyway.
            refused = await await Task.WhenAny(sends).WaitAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            await ChildProcesses.RunAsync("kill", ["-CONT", pid]);
        }

        var refusedIndex = Array.IndexOf(sends, sends.First(t => t.IsCompleted && t.Result == refused));
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("unavailable", problem.GetProperty("code").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        using var accepted = await sends[1 - refusedIndex];
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var stored = await cluster.QueryAsync("SELECT request_id FROM sb_messages WHERE request_id LIKE 'during-stall-%'");
        Assert.Equal($"during-stall-{1 - refusedIndex}", stored.Trim());

        // The retry with the same id is stored, once.
        using var retried = await Post(api, tokens[refusedIndex], new { to = $"user:{bob}", body = 1, id = $"during-stall-{refusedIndex}" });
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(2, (await cluster.QueryAsync("SELECT request_id FROM sb_messages WHERE request_id LIKE 'during-stall-%'"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        refused.Dispose();
    }

    private static Task<HttpResponseMessage> Post(ApiClient api, string token, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return api.Http.SendAsync(request);
    }

    [Fact]
    public async Task The_conversation_list_of_a_user_in_70000_groups_has_each_with_its_latest_seq()
    {
        var (log, _) = await CreateAsync();
        await using var _log = log;
        var alice = new UserId($"alice-{Guid.NewGuid():N}");
        var groups = Enumerable.Range(0, 70_000).Select(i => ConversationId.ForGroup(new GroupId($"g{i}-{Guid.NewGuid():N}"))).ToList();
        await AppendAllAsync(log, groups[0], 3, bodyBytes: 0);
        await AppendAllAsync(log, groups[69_999], 2, bodyBytes: 0);
        Assert.True(ConversationId.TryParse($"dm:{alice.Value}:zed", out var direct));
        Recipient.TryParse("user:zed", out var zed);
        await log.AppendAsync(new StoredMessage(direct, 1, alice, zed, $"dm-{Guid.NewGuid():N}", "1"u8.ToArray(), Now));

        var watch = Stopwatch.StartNew();
        var list = await log.ListConversationsAsync(alice, groups);
        output.WriteLine($"list of 70,000 groups: {watch.ElapsedMilliseconds} ms");

        Assert.Equal(70_001, list.Count);
        var bySeq = list.ToDictionary(c => c.Conversation, c => c.Seq);
        Assert.Equal(3, bySeq[groups[0]]);
        Assert.Equal(2, bySeq[groups[69_999]]);
        Assert.Equal(0, bySeq[groups[35_000]]);
        Assert.Equal(1, bySeq[direct]);
    }
}
