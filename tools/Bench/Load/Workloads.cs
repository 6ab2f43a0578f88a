using System.Text.Json;

namespace Switchboard.Bench.Load;

/// <summary>The workloads of docs/performance.md, W1 to W4.</summary>
internal static class Workloads
{
    public static readonly IReadOnlyDictionary<string, string> Titles = new Dictionary<string, string>
    {
        ["w1"] = "W1 dm-cross-node",
        ["w2"] = "W2 group-fanout",
        ["w3"] = "W3 max-throughput",
        ["w4"] = "W4 idle-connections",
        ["w5"] = "W5 dm-with-read-receipts",
    };

    public static int ClientCount(LoadOptions options) => options.Workload switch
    {
        "w2" => options.Groups * options.Members,
        "w4" => options.Clients ?? 10_000,
        _ => options.Clients ?? 1000,
    };

    public static Dictionary<string, object> Settings(LoadOptions options) => options.Workload switch
    {
        "w1" or "w5" => new() { ["clients"] = ClientCount(options), ["ratePerClient"] = options.Rate, ["warmup"] = options.Warmup, ["duration"] = options.Duration, ["grace"] = options.Grace, ["seed"] = options.Seed },
        "w2" => new() { ["groups"] = options.Groups, ["members"] = options.Members, ["ratePerGroup"] = options.GroupRate, ["warmup"] = options.Warmup, ["duration"] = options.Duration, ["grace"] = options.Grace },
        "w3" => new() { ["clients"] = ClientCount(options), ["steps"] = options.Steps, ["stepDuration"] = options.StepDuration, ["warmup"] = options.Warmup, ["grace"] = options.Grace, ["p99LimitMs"] = options.P99LimitMs, ["minDelivered"] = options.MinDelivered, ["seed"] = options.Seed },
        _ => new() { ["clients"] = ClientCount(options), ["chunks"] = options.Chunks, ["settle"] = options.Settle },
    };

    public static Task RunAsync(WorkloadContext context) => context.Options.Workload switch
    {
        "w1" or "w5" => DmCrossNodeAsync(context),
        "w2" => GroupFanoutAsync(context),
        "w3" => MaxThroughputAsync(context),
        "w4" => IdleConnectionsAsync(context),
        _ => throw new UsageException($"unknown workload {context.Options.Workload}"),
    };

    /// <summary>W1: every client sends <c>--rate</c> msg/s to a random client on the other silo. W5: the same, and every recipient answers each delivered message with a <c>read</c>.</summary>
    private static async Task DmCrossNodeAsync(WorkloadContext context)
    {
        var options = context.Options;
        var traffic = await CrossNodeTraffic.ConnectAsync(context);
        var rate = context.Engine.Clients.Length * options.Rate;
        WarnAboutRateLimit(options.Rate);
        var window = await context.RunWindowAsync(options.Workload, rate, options.Warmup, options.Duration, 1, null, traffic.Next);
        context.Report.Windows.Add(window);
        context.CheckIntegrity(window);
        context.CheckDelivery(window);
        context.AddWindowFigures(window);
    }

    /// <summary>
    /// W2: groups of members alternating nodes (fresh group ids, policy open, members join over their sockets);
    /// the first member of each group sends <c>--group-rate</c> msg/s; members leave again at the end.
    /// </summary>
    private static async Task GroupFanoutAsync(WorkloadContext context)
    {
        var options = context.Options;
        var engine = context.Engine;
        await context.ConnectAsync(0, engine.Clients.Length);

        // Interleave the nodes' clients, then cut into groups: consecutive members sit on different nodes.
        var byNode = engine.Clients.GroupBy(c => c.Node).OrderBy(g => g.Key).Select(g => new Queue<BenchClient>(g)).ToList();
        var order = new List<BenchClient>(engine.Clients.Length);
        while (order.Count < engine.Clients.Length)
        {
            foreach (var queue in byNode)
            {
                if (queue.TryDequeue(out var client))
                {
                    order.Add(client);
                }
            }
        }

        var ids = new string[options.Groups];
        var members = new int[options.Groups][];
        for (var g = 0; g < options.Groups; g++)
        {
            ids[g] = $"bench-{engine.RunTag}g{g}";
            members[g] = new int[options.Members];
            for (var slot = 0; slot < options.Members; slot++)
            {
                var client = order[(g * options.Members) + slot];
                client.Group = g;
                client.GroupSlot = slot;
                members[g][slot] = client.Index;
            }
        }

        var layout = new GroupLayout(ids, members);
        context.Progress.Phase = "w2 creating groups";
        var teacher = await context.Api.TokenAsync(options.Targets[0], "bench-teacher", "teacher", CancellationToken.None);
        foreach (var id in ids)
        {
            await context.Api.PutGroupAsync(options.Targets[0], teacher, id, "open", CancellationToken.None);
        }

        context.Progress.Phase = "w2 joining";
        await SetupRequestsAsync(context, "join", layout);
        Console.WriteLine($"{options.Groups} groups of {options.Members} ({ids[0]} ...), policy open, every member joined; " +
            $"spread of group 0: {string.Join(", ", members[0].GroupBy(i => engine.Nodes[engine.Clients[i].Node]).Select(g => $"{g.Key} {g.Count()}"))}");

        var senders = members.Select(m => engine.Clients[m[0]]).ToArray();
        void Next(long k, out BenchClient sender, out int target, out byte[] to)
        {
            target = (int)(k % senders.Length);
            sender = senders[target];
            to = layout.AddressUtf8[target];
        }

        WarnAboutRateLimit(options.GroupRate);
        try
        {
            var window = await context.RunWindowAsync("w2", options.Groups * options.GroupRate, options.Warmup, options.Duration, options.Members - 1, layout, Next);
            context.Report.Windows.Add(window);
            context.CheckIntegrity(window);
            context.CheckDelivery(window);
            context.AddWindowFigures(window);
        }
        finally
        {
            // Memberships are persisted: leave, so later runs' users do not carry this run's groups.
            context.Progress.Phase = "w2 leaving";
            await SetupRequestsAsync(context, "leave", layout);
        }
    }

    private static async Task SetupRequestsAsync(WorkloadContext context, string type, GroupLayout layout)
    {
        var engine = context.Engine;
        var failures = 0;
        await Parallel.ForEachAsync(engine.Clients.Where(c => c.Group >= 0), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (client, _) =>
        {
            var id = $"{engine.RunTag}c{type}{client.Index}";
            var json = JsonSerializer.Serialize(new Dictionary<string, string> { ["type"] = type, ["id"] = id, ["group"] = layout.Ids[client.Group] });
            var error = await client.RequestAsync(id, json, TimeSpan.FromSeconds(30));
            if (error is not null && Interlocked.Increment(ref failures) <= 5)
            {
                Console.Error.WriteLine($"  {client.User}: {type} {layout.Ids[client.Group]} answered error {error}");
            }
        });
        if (failures > 0)
        {
            throw new InvalidOperationException($"{failures} {type} requests failed");
        }
    }

    /// <summary>
    /// W3: W1's set-up at stepped offered rates. A step passes when p99 ≤ the limit and the delivered fraction
    /// (within the window plus the grace) reaches the mark; a failing step is retried once; the run stops when
    /// the retry fails too. Result: the delivered rate of the highest passing step.
    /// </summary>
    private static async Task MaxThroughputAsync(WorkloadContext context)
    {
        var options = context.Options;
        var traffic = await CrossNodeTraffic.ConnectAsync(context);
        var clients = context.Engine.Clients.Length;
        var steps = new List<StepReport>();
        context.Report.Steps = steps;
        StepReport? best = null;
        foreach (var rate in options.Steps)
        {
            WarnAboutRateLimit(rate / clients);
            var passed = false;
            for (var attempt = 1; attempt <= 2 && !passed; attempt++)
            {
                var window = await context.RunWindowAsync($"w3 {rate:0.###}/s #{attempt}", rate, options.Warmup, options.StepDuration, 1, null, traffic.Next);
                context.CheckIntegrity(window);
                var p99 = window.Latency.P99;
                var fraction = window.DeliveredFraction ?? 0;
                passed = p99 is not null && p99 <= options.P99LimitMs && fraction >= options.MinDelivered;
                var verdict = $"p99 {(p99 is null ? "-" : $"{p99:F1} ms")} {(p99 is not null && p99 <= options.P99LimitMs ? "≤" : ">")} {options.P99LimitMs} ms, " +
                    $"delivered {fraction:P1} {(fraction >= options.MinDelivered ? "≥" : "<")} {options.MinDelivered:P0}";
                var step = new StepReport(rate, attempt, passed, verdict, window);
                steps.Add(step);
                Console.WriteLine($"w3 step {rate:0.###} msg/s attempt {attempt}: {(passed ? "PASS" : "FAIL")} ({verdict}); delivered {window.DeliveredPerSecond:F0}/s");
                if (passed)
                {
                    best = step;
                }
            }

            if (!passed)
            {
                Console.WriteLine($"w3: {rate:0.###} msg/s failed twice: stopping");
                break;
            }
        }

        var f = context.Report.Figures;
        f["max sustained delivered/s"] = best?.Window.DeliveredPerSecond;
        f["offered msg/s at max"] = best?.Rate;
        if (best is not null)
        {
            var w = best.Window;
            f["p50 ms at max"] = w.Latency.P50;
            f["p99 ms at max"] = w.Latency.P99;
            f["server CPU cores at max"] = w.Cpu.Server.Cores;
            f["server CPU µs/message at max"] = w.Cpu.Server.MicrosPerMessage;
            f["server CPU µs/delivery at max"] = w.Cpu.Server.MicrosPerDelivery;
            foreach (var process in w.Cpu.Processes)
            {
                f[$"{process.Name} CPU µs/message at max"] = process.MicrosPerMessage;
            }

            f["generator CPU cores at max"] = w.Cpu.Generator.Cores;
            f["other CPU cores at max"] = w.Cpu.OtherCores;
        }
        else
        {
            context.Report.Problems.Add("w3: no step passed");
        }
    }

    /// <summary>
    /// W4: idle clients connected in chunks; after each chunk and a settle, each process's RSS. The result is the
    /// least-squares slope of RSS against the connections each process holds (a silo: the clients its welcome
    /// named; a gateway: all of them). The sample before the first chunk is reported, not fitted.
    /// </summary>
    private static async Task IdleConnectionsAsync(WorkloadContext context)
    {
        var options = context.Options;
        var engine = context.Engine;
        var processes = context.Monitor.Processes;
        var total = engine.Clients.Length;
        var samples = new List<IdleSample> { Sample(context, 0) };
        for (var chunk = 0; chunk < options.Chunks; chunk++)
        {
            var from = (int)((long)chunk * total / options.Chunks);
            var to = (int)((long)(chunk + 1) * total / options.Chunks);
            await context.ConnectAsync(from, to - from);
            context.Progress.Phase = $"w4 settle {chunk + 1}/{options.Chunks}";
            await Task.Delay(TimeSpan.FromSeconds(options.Settle));
            var sample = Sample(context, to);
            samples.Add(sample);
            Console.WriteLine($"w4 chunk {chunk + 1}/{options.Chunks}: {to} connections held; RSS " +
                string.Join(", ", sample.RssKiB.Select(r => $"{r.Key} {(r.Value is null ? "-" : $"{r.Value / 1024.0:F1} MiB")}")));
        }

        var fitted = samples.Skip(1).ToList();
        var slopes = new Dictionary<string, double?>();
        var silos = processes.Where(p => engine.Nodes.Contains(p.Name)).ToList();
        if (silos.Count == 0)
        {
            silos = [.. processes.Where(p => p.Name.StartsWith("silo", StringComparison.OrdinalIgnoreCase))];
        }

        foreach (var process in processes)
        {
            slopes[process.Name] = Slope(fitted, s => s.ConnectionsByNode.TryGetValue(process.Name, out var held) ? held : s.Connections, s => s.RssKiB[process.Name]);
        }

        double? silosSlope = silos.Count == 0 ? null : Slope(fitted, s => s.Connections, s => Sum(silos.Select(p => s.RssKiB[p.Name])));
        context.Report.Idle = new IdleReport(samples, slopes, silosSlope);
        context.Report.Figures["KiB/connection (silos)"] = silosSlope;
        foreach (var (name, slope) in slopes)
        {
            context.Report.Figures[$"KiB/connection {name}"] = slope;
        }

        if (processes.Count == 0)
        {
            context.Report.Problems.Add("w4: no server processes to measure (--discover or --server-pids)");
        }
    }

    private static IdleSample Sample(WorkloadContext context, int connections)
    {
        var nodes = context.Engine.Nodes;
        var byNode = nodes.ToDictionary(n => n, _ => 0);
        for (var i = 0; i < connections; i++)
        {
            var node = context.Engine.Clients[i].Node;
            if (node >= 0)
            {
                byNode[nodes[node]]++;
            }
        }

        return new IdleSample(connections, byNode, context.Monitor.Processes.ToDictionary(p => p.Name, p => ProcessMonitor.RssKiB(p.Pid)));
    }

    private static long? Sum(IEnumerable<long?> values)
    {
        long sum = 0;
        foreach (var value in values)
        {
            if (value is null)
            {
                return null;
            }

            sum += value.Value;
        }

        return sum;
    }

    /// <summary>Least-squares slope of y against x; null with fewer than two distinct x or a missing y.</summary>
    internal static double? Slope<T>(IReadOnlyList<T> points, Func<T, int> x, Func<T, long?> y)
    {
        if (points.Count < 2 || points.Any(p => y(p) is null))
        {
            return null;
        }

        var meanX = points.Average(p => (double)x(p));
        var meanY = points.Average(p => (double)y(p)!.Value);
        var sxy = points.Sum(p => (x(p) - meanX) * (y(p)!.Value - meanY));
        var sxx = points.Sum(p => (x(p) - meanX) * (x(p) - meanX));
        return sxx == 0 ? null : sxy / sxx;
    }

    private static void WarnAboutRateLimit(double perSocket)
    {
        if (perSocket > 200)
        {
            Console.Error.WriteLine($"warning: {perSocket:F0} frames/s per socket is over the server's default rate limit (200/s, burst 400)");
        }
    }
}
