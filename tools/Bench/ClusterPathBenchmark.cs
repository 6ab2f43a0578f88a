using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Grains.Hosting;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Hosting;

namespace Switchboard.Bench;

/// <summary>
/// The grain path alone, across two in-process silos: user grain → conversation grain → recipient's user
/// grain → the other silo's sink → a local connection. No sockets, no JSON parsing at the edge: this is
/// what routing itself costs. Senders are on silo 0, recipients on silo 1 (every delivery crosses silos).
/// </summary>
internal static class ClusterPathBenchmark
{
    public static async Task<int> RunAsync(int pairs, int messagesPerPair, int concurrency)
    {
        Console.WriteLine($"cluster-path: starting a 2-silo TestCluster ({pairs} pairs, {messagesPerPair} messages each, {concurrency} in flight)");
        var builder = new TestClusterBuilder(2);
        builder.Options.ClusterId = $"bench-{Guid.NewGuid():N}";
        builder.AddSiloBuilderConfigurator<Configurator>();
        await using var cluster = builder.Build();
        await cluster.DeployAsync();

        var services = cluster.Silos.Select(s => ((InProcessSiloHandle)s).ServiceProvider).ToArray();
        var routers = services.Select(s => s.GetRequiredService<ConnectionRouter>()).ToArray();
        var recipients = new List<TimingConnection>();
        for (var i = 0; i < pairs; i++)
        {
            var sender = new TimingConnection($"s{i}");
            var recipient = new TimingConnection($"r{i}");
            await routers[0].AttachAsync(sender, 0);
            await routers[1].AttachAsync(recipient, 0);
            recipients.Add(recipient);
        }

        var grains = cluster.GrainFactory;
        async Task SendAsync(int pair, int n)
        {
            var body = Encoding.UTF8.GetBytes($"{{\"t\":{Stopwatch.GetTimestamp()},\"n\":{n}}}");
            var from = new UserId($"s{pair}");
            var command = new SendCommand(new Caller(from, "student"), Guid.NewGuid().ToString(), Recipient.ForUser(new UserId($"r{pair}")), body, null);
            await grains.GetUserGrain(from).SendAsync(command);
        }

        // Warm-up: activates every grain and conversation once.
        await Task.WhenAll(Enumerable.Range(0, pairs).Select(p => SendAsync(p, 0)));
        await WaitAsync(() => recipients.All(r => r.Count >= 1));
        foreach (var r in recipients)
        {
            r.Reset();
        }

        var total = pairs * messagesPerPair;
        var ackLatencies = new double[total];
        var started = Stopwatch.GetTimestamp();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < total)
            {
                var t0 = Stopwatch.GetTimestamp();
                await SendAsync(index % pairs, index);
                ackLatencies[index] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }));
        await WaitAsync(() => recipients.Sum(r => r.Count) >= total);
        var elapsed = Stopwatch.GetElapsedTime(started);

        var delivery = recipients.SelectMany(r => r.Latencies).Order().ToArray();
        Array.Sort(ackLatencies);
        Console.WriteLine($"cluster-path: {total} messages in {elapsed.TotalSeconds:F2} s = {total / elapsed.TotalSeconds:F0} msg/s");
        Console.WriteLine($"  ack (send → durable → receipt)   p50 {Percentile(ackLatencies, 50):F3} ms  p99 {Percentile(ackLatencies, 99):F3} ms  max {ackLatencies[^1]:F3} ms");
        Console.WriteLine($"  delivery (send → other silo)     p50 {Percentile(delivery, 50):F3} ms  p99 {Percentile(delivery, 99):F3} ms  max {delivery[^1]:F3} ms");
        Console.WriteLine($"  delivered {delivery.Length} of {total}");
        await cluster.StopAllSilosAsync();
        return delivery.Length == total ? 0 : 1;
    }

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("deliveries did not arrive within 60 s");
            }

            await Task.Delay(10);
        }
    }

    private sealed class Configurator : ISiloConfigurator
    {
        private static readonly InMemoryMessageLog SharedLog = new();

        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddSwitchboardInMemory(SharedLog);

            // This measures the path's cost as fast as it goes: the per-user and per-group budgets would pace it.
            siloBuilder.Services.Configure<LimitOptions>(limits => (limits.SendsPerUserPerSecond, limits.PostsPerGroupPerSecond) = (0, 0));
        }
    }

    /// <summary>Records, per message frame, the time since the send stamped in its body.</summary>
    private sealed class TimingConnection(string user) : IClientConnection
    {
        private readonly List<double> _latencies = [];

        public ConnectionId Id { get; } = ConnectionId.New();

        public UserId User { get; } = new(user);

        public DateTimeOffset? TokenIssuedAt => null;

        public void Disconnect(string reason)
        {
        }

        public int Count
        {
            get
            {
                lock (_latencies)
                {
                    return _latencies.Count;
                }
            }
        }

        public IEnumerable<double> Latencies
        {
            get
            {
                lock (_latencies)
                {
                    return [.. _latencies];
                }
            }
        }

        public void Reset()
        {
            lock (_latencies)
            {
                _latencies.Clear();
            }
        }

        public bool TrySend(ReadOnlyMemory<byte> frame)
        {
            var now = Stopwatch.GetTimestamp();
            using var document = JsonDocument.Parse(frame);
            var sent = document.RootElement.GetProperty("body").GetProperty("t").GetInt64();
            lock (_latencies)
            {
                _latencies.Add(Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
            }

            return true;
        }
    }
}
