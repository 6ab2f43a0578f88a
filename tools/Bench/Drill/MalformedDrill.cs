using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>
/// Malformed-frame drill: many sockets of many users send every kind of malformed frame, paced under the per-socket
/// limit, while a control pair exchanges direct messages; the silos must stay up, the control recipient must hold
/// every control message once and in order, and the silos' RSS must come back near its baseline.
/// </summary>
internal static class MalformedDrill
{
    public const string Usage = """
        malformed drill: malformed frames of every kind from many sockets while a control pair exchanges messages:
          malformed-drill [options]
            --targets URL,URL    the silos (default ws://127.0.0.1:5001,ws://127.0.0.1:5002); sockets alternate
            --frames N           malformed frames in all (10000), an equal share of each kind
            --sockets N          sockets sending them, one user each (50)
            --warm N             malformed frames sent first, unmeasured, before the RSS baseline (default: as many as --frames; 0: none)
            --control N          control messages, sent by one user to another on the other silo (1000)
            --control-rate R     control messages per second (80; the per-user limit is 100/s)
            --data-dir DIR       the cluster's data folder, for the silo pids (default $SB_DATA_DIR or deploy/local/.data)
            --silo-pids P,P      the silo pids instead
            --settle S           at most this long for the silos' RSS to come back under the bar (60)
            --insecure           accept a self-signed certificate (wss targets)
        exit code: 0 when every silo stayed alive and healthy, the control recipient holds 1..N once each, and every
        silo's RSS came back within +30 % or +50 MiB of its baseline; 1 otherwise; 2 for a bad command line.
        """;

    private enum Kind { InvalidJson, WrongTypes, UnknownType, OversizedId, Binary, Oversized }

    private static readonly Kind[] Kinds = Enum.GetValues<Kind>();

    // Each kind has a few shapes, taken in turn: what a broken or hostile client would plausibly write.
    private static readonly string[][] Shapes =
    [
        ["{\"type\":\"send\",\"id\":\"x", "not json at all", "{\"type\":}", "{\"type\":\"ping\",\"id\":\"p\"}}", "{'type':'ping'}", "\"unterminated"],
        ["{\"type\":7,\"id\":\"a\"}", "[1,2,3]", "{\"type\":\"send\",\"id\":42,\"to\":\"user:nobody\",\"body\":1}", "{\"type\":\"send\",\"id\":\"w\",\"to\":17,\"body\":{}}",
         "{\"type\":\"resume\",\"id\":\"r\",\"since\":[1]}", "{\"type\":\"resume\",\"id\":\"r\",\"since\":{\"dm:a:b\":-1}}", "\"just a string\"", "{\"type\":\"join\",\"id\":\"j\",\"group\":{\"x\":1}}", "null"],
        ["{\"type\":\"explode\",\"id\":\"u\"}", "{\"type\":\"\",\"id\":\"u\"}", "{\"id\":\"u\"}", "{\"type\":\"SEND\",\"id\":\"u\",\"to\":\"user:nobody\",\"body\":1}"],
        ["{\"type\":\"ping\",\"id\":\"" + new string('i', 4096) + "\"}", "{\"type\":\"send\",\"id\":\"o\",\"to\":\"user:" + new string('u', 1000) + "\",\"body\":1}",
         "{\"type\":\"join\",\"id\":\"o\",\"group\":\"" + new string('g', 500) + "\"}", "{\"type\":\"resume\",\"id\":\"o\",\"since\":{\"group:" + new string('c', 2000) + "\":0}}"],
    ];

    private static readonly byte[] BinaryFrame = [.. Enumerable.Range(0, 64).Select(i => (byte)i)];

    // Just over the silo's 64 KiB limit, and valid JSON: only its size is wrong.
    private static readonly byte[] OversizedFrame = Encoding.UTF8.GetBytes("{\"type\":\"send\",\"id\":\"big\",\"to\":\"user:nobody\",\"body\":\"" + new string('b', 70_000) + "\"}");

    /// <summary>What one kind got back, summed over the sockets.</summary>
    private sealed class KindCounts
    {
        public int Sent;
        public int Acks;
        public int Unanswered;
        public readonly ConcurrentDictionary<string, int> Replies = new();
        public readonly ConcurrentDictionary<string, int> Closes = new();
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var targets = DrillKit.ParseTargets(string.Join(',', DrillKit.DefaultTargets));
        int frames = 10_000, sockets = 50, control = 1000, warm = -1;
        double controlRate = 80, settle = 60;
        string dataDir = DrillKit.DefaultDataDir;
        string? pidList = null;
        var insecure = false;
        try
        {
            var option = new OptionCursor(args);
            while (option.MoveNext())
            {
                switch (option.Name)
                {
                    case "--targets": targets = DrillKit.ParseTargets(option.Value()); break;
                    case "--frames": frames = LoadOptions.PositiveInt(option.Name, option.Value()); break;
                    case "--warm": warm = Math.Max(0, LoadOptions.Integer(option.Name, option.Value())); break;
                    case "--sockets": sockets = LoadOptions.PositiveInt(option.Name, option.Value()); break;
                    case "--control": control = LoadOptions.PositiveInt(option.Name, option.Value()); break;
                    case "--control-rate": controlRate = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--data-dir": dataDir = option.Value(); break;
                    case "--silo-pids": pidList = option.Value(); break;
                    case "--settle": settle = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--insecure": insecure = true; break;
                    default: throw new UsageException($"unknown option '{option.Name}'");
                }
            }

            warm = warm < 0 ? frames : warm;
            var silos = new SiloSet(targets, DrillKit.SiloPids(pidList, dataDir), dataDir);
            return await RunAsync(silos, frames, sockets, control, controlRate, warm, TimeSpan.FromSeconds(settle), insecure);
        }
        catch (UsageException exception)
        {
            Console.Error.WriteLine($"malformed-drill: {exception.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static async Task<int> RunAsync(SiloSet silos, int frames, int socketCount, int controlCount, double controlRate, int warm, TimeSpan settle, bool insecure)
    {
        var started = DateTime.UtcNow;
        void Say(string line) => Console.WriteLine($"[{(DateTime.UtcNow - started).TotalSeconds,5:F1}s] {line}");
        var tag = DrillKit.RunTag();
        using var api = new DevApi(insecure);
        using var invoker = DrillKit.Invoker(insecure);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));

        Say($"malformed-drill {tag}: {frames} malformed frames from {socketCount} sockets, {controlCount} control messages at {controlRate}/s; silos {string.Join(", ", silos.Targets)} (pids {string.Join(", ", silos.Pids)})");
        var attackers = Enumerable.Range(0, socketCount).Select(i => $"m{tag}-{i}").ToArray();
        string sender = $"m{tag}-ca", recipient = $"m{tag}-cb";
        var tokens = await DrillKit.TokensAsync(api, silos.Targets[0], [.. attackers, sender, recipient], "student", cancel.Token);

        // The control pair on different silos: their messages cross the cluster.
        var (senderSocket, senderReader, senderNode) = await DrillKit.ConnectAsync(silos.Targets[0], tokens[socketCount], invoker, cancel.Token);
        var (recipientSocket, recipientReader, recipientNode) = await DrillKit.ConnectAsync(silos.Targets[1 % silos.Targets.Count], tokens[socketCount + 1], invoker, cancel.Token);
        Say($"control pair: {sender} on {senderNode} -> {recipient} on {recipientNode}");

        var counts = Kinds.ToDictionary(k => k, _ => new KindCounts());
        var window = TimeSpan.Zero;
        var reconnects = 0;
        var connectFailures = 0;
        var attackStart = DateTime.UtcNow;
        Task Attack(int total, TimeSpan span)
        {
            counts = Kinds.ToDictionary(k => k, _ => new KindCounts());
            (window, reconnects, connectFailures, attackStart) = (span, 0, 0, DateTime.UtcNow);
            return Task.WhenAll(Enumerable.Range(0, socketCount).Select(s => Task.Run(() => AttackAsync(s, (total / socketCount) + (s < total % socketCount ? 1 : 0)))));
        }

        // A first round unmeasured: on a fresh silo the first round raises the heap's and pools' high-water mark (about
        // +70 MiB, kept), and a second round adds almost nothing; the baseline after it tells a leak from that mark.
        var span = TimeSpan.FromSeconds(Math.Max(2, controlCount / controlRate));
        if (warm > 0)
        {
            var cold = silos.Pids.Select(p => ProcessMonitor.RssKiB(p) ?? 0).ToArray();
            Say($"warm-up: {warm} malformed frames at the same pace, not measured; RSS before it " + string.Join(", ", cold.Select((b, i) => $"pid {silos.Pids[i]} {DrillKit.MiB(b)} MiB")));
            await Attack(warm, span * ((double)warm / frames));
        }

        using var watch = new SiloWatch(silos, insecure);
        watch.Start();
        Say("baseline RSS " + string.Join(", ", watch.Baseline.Select((b, i) => $"pid {silos.Pids[i]} {DrillKit.MiB(b)} MiB")));

        // Spread the malformed frames over the control traffic's duration, each socket at an even pace.
        var attack = Attack(frames, span);

        async Task AttackAsync(int s, int count)
        {
            var target = silos.Targets[s % silos.Targets.Count];
            var interval = window / Math.Max(1, count);
            var n = 0;
            while (n < count && !cancel.IsCancellationRequested)
            {
                ClientWebSocket socket;
                FrameReader reader;
                try
                {
                    (socket, reader, _) = await DrillKit.ConnectAsync(target, tokens[s], invoker, cancel.Token);
                }
                catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or InvalidOperationException or HttpRequestException)
                {
                    // Full jitter, so 50 attackers refused together do not return together.
                    await Task.Delay(Backoff.FullJitter(Interlocked.Increment(ref connectFailures) % 5, baseMs: 100, capMs: 2_000));
                    continue;
                }

                // Kinds in the order written: each reply (or the close) belongs to the oldest frame not yet answered.
                var pending = new ConcurrentQueue<Kind>();
                var closed = new TaskCompletionSource<int?>(TaskCreationOptions.RunContinuationsAsynchronously);
                var receive = Task.Run(async () =>
                {
                    try
                    {
                        while (await reader.NextAsync(CancellationToken.None))
                        {
                            using var reply = JsonDocument.Parse(reader.Frame.ToArray());
                            var type = reply.RootElement.GetProperty("type").GetString();
                            if (!pending.TryDequeue(out var kind))
                            {
                                continue;
                            }

                            if (type == "ack")
                            {
                                Interlocked.Increment(ref counts[kind].Acks);
                            }

                            var code = type == "error" ? reply.RootElement.GetProperty("code").GetString() ?? "?" : type ?? "?";
                            counts[kind].Replies.AddOrUpdate(code, 1, (_, c) => c + 1);
                        }

                        closed.TrySetResult(reader.CloseStatus);
                    }
                    catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException or JsonException)
                    {
                        closed.TrySetResult(null);
                    }
                });

                try
                {
                    while (n < count)
                    {
                        var due = attackStart + (interval * n);
                        if (due > DateTime.UtcNow)
                        {
                            await Task.Delay(due - DateTime.UtcNow);
                        }

                        var kind = Kinds[(s + n) % Kinds.Length];
                        n++;
                        Interlocked.Increment(ref counts[kind].Sent);
                        if (kind is Kind.Binary or Kind.Oversized)
                        {
                            pending.Enqueue(kind);
                            var payload = kind == Kind.Binary ? BinaryFrame : OversizedFrame;
                            await socket.SendAsync(payload, kind == Kind.Binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, true, cancel.Token);
                            // The protocol closes the socket for these (1003, 1009): wait for it, then reconnect.
                            var status = await closed.Task.WaitAsync(TimeSpan.FromSeconds(10), cancel.Token);
                            counts[kind].Closes.AddOrUpdate(status?.ToString(CultureInfo.InvariantCulture) ?? "none", 1, (_, c) => c + 1);
                            Interlocked.Increment(ref reconnects);
                            break;
                        }

                        pending.Enqueue(kind);
                        var shapes = Shapes[(int)kind];
                        await socket.SendAsync(Encoding.UTF8.GetBytes(shapes[(n / Kinds.Length) % shapes.Length]), WebSocketMessageType.Text, true, cancel.Token);
                    }

                    if (n >= count && socket.State == WebSocketState.Open)
                    {
                        // Let the last replies arrive, then close normally.
                        var waited = DateTime.UtcNow.AddSeconds(5);
                        while (pending.Count(k => k is not (Kind.Binary or Kind.Oversized)) > 0 && DateTime.UtcNow < waited)
                        {
                            await Task.Delay(50);
                        }

                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
                        await closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
                    }
                }
                catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or TimeoutException or ObjectDisposedException)
                {
                    // A socket the server dropped unasked: counted below by what it left unanswered.
                }
                finally
                {
                    // A frame closing its socket is answered by the close, not by a reply.
                    foreach (var kind in pending.Where(k => k is not (Kind.Binary or Kind.Oversized)))
                    {
                        Interlocked.Increment(ref counts[kind].Unanswered);
                    }

                    socket.Abort();
                    socket.Dispose();
                    await receive;
                    reader.Dispose();
                }
            }
        }

        // Control: open loop at the rate, same id retried on unavailable or rate_limited.
        var acked = new ConcurrentDictionary<int, long>();
        var controlErrors = new ConcurrentDictionary<string, int>();
        var delivered = new Dictionary<long, int>();
        var latencies = new List<long>(controlCount);
        var allDelivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writeLock = new SemaphoreSlim(1, 1);
        string Frame(int k) => $"{{\"type\":\"send\",\"id\":\"{tag}-c{k}\",\"to\":\"user:{recipient}\",\"body\":{{\"t\":{BenchClock.NowMicros()}}}}}";
        async Task WriteControlAsync(int k)
        {
            await writeLock.WaitAsync();
            try
            {
                await senderSocket.SendAsync(Encoding.UTF8.GetBytes(Frame(k)), WebSocketMessageType.Text, true, cancel.Token);
            }
            finally
            {
                writeLock.Release();
            }
        }

        var senderLoop = Task.Run(async () =>
        {
            while (await senderReader.NextAsync(cancel.Token))
            {
                using var reply = JsonDocument.Parse(senderReader.Frame.ToArray());
                var root = reply.RootElement;
                if (!root.TryGetProperty("id", out var id) || id.GetString() is not { } text || !text.StartsWith($"{tag}-c", StringComparison.Ordinal))
                {
                    continue;
                }

                var k = int.Parse(text.AsSpan(tag.Length + 2), CultureInfo.InvariantCulture);
                if (root.GetProperty("type").GetString() == "ack")
                {
                    acked[k] = root.GetProperty("seq").GetInt64();
                }
                else
                {
                    var code = root.GetProperty("code").GetString() ?? "?";
                    controlErrors.AddOrUpdate(code, 1, (_, c) => c + 1);
                    if (code is "unavailable" or "rate_limited")
                    {
                        _ = Task.Delay(250).ContinueWith(_ => WriteControlAsync(k), TaskScheduler.Default);
                    }
                }
            }
        });
        var duplicates = 0;
        var recipientLoop = Task.Run(async () =>
        {
            while (await recipientReader.NextAsync(cancel.Token))
            {
                var now = BenchClock.NowMicros();
                using var frame = JsonDocument.Parse(recipientReader.Frame.ToArray());
                var root = frame.RootElement;
                if (root.GetProperty("type").GetString() != "message")
                {
                    continue;
                }

                var seq = root.GetProperty("seq").GetInt64();
                if (!delivered.TryAdd(seq, 1))
                {
                    duplicates++;
                    continue;
                }

                latencies.Add(now - root.GetProperty("body").GetProperty("t").GetInt64());
                if (delivered.Count == controlCount)
                {
                    allDelivered.TrySetResult();
                }
            }
        });

        var controlStart = DateTime.UtcNow;
        var progress = Task.Run(async () =>
        {
            while (!attack.IsCompleted || !allDelivered.Task.IsCompleted)
            {
                await Task.WhenAny(Task.Delay(2000), Task.WhenAll(attack, allDelivered.Task));
                Say($"malformed sent {counts.Values.Sum(c => c.Sent)}/{frames} (reconnects {reconnects}); control acked {acked.Count}/{controlCount}, delivered {delivered.Count}");
            }
        });
        for (var k = 0; k < controlCount; k++)
        {
            var due = controlStart + TimeSpan.FromSeconds(k / controlRate);
            if (due > DateTime.UtcNow)
            {
                await Task.Delay(due - DateTime.UtcNow);
            }

            await WriteControlAsync(k);
        }

        await attack;
        await Task.WhenAny(allDelivered.Task, Task.Delay(TimeSpan.FromSeconds(15)));
        await progress.WaitAsync(TimeSpan.FromSeconds(3)).ContinueWith(_ => { }, TaskScheduler.Default);
        var attackSeconds = (DateTime.UtcNow - attackStart).TotalSeconds;
        await senderSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await recipientSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await Task.WhenAny(Task.WhenAll(senderLoop, recipientLoop), Task.Delay(5000));

        await watch.StopAsync();
        Say($"traffic over after {attackSeconds:F1} s; waiting at most {settle.TotalSeconds:F0} s for the silos' RSS to come back within +30 % or +50 MiB");
        var settledAt = DateTime.UtcNow;
        var settled = await watch.SettleAsync(settle, 0.30, 50 * 1024, Say);
        var settleSeconds = (DateTime.UtcNow - settledAt).TotalSeconds;

        // Figures.
        Console.WriteLine();
        Console.WriteLine("kind          sent   replies (by code)                        closes (by code)   acked  unanswered");
        foreach (var kind in Kinds)
        {
            var c = counts[kind];
            Console.WriteLine($"{kind,-12} {c.Sent,5}   {Join(c.Replies),-40} {Join(c.Closes),-18} {c.Acks,5}  {c.Unanswered,5}");
        }

        Console.WriteLine($"malformed frames sent {counts.Values.Sum(c => c.Sent)}, reconnects {reconnects}, failed connects {connectFailures}");
        latencies.Sort();
        var gaps = Enumerable.Range(1, controlCount).Count(s => !delivered.ContainsKey(s));
        var beyond = delivered.Keys.Count(s => s < 1 || s > controlCount);
        Console.WriteLine($"control: sent {controlCount}, acked {acked.Count}, delivered {delivered.Count} (missing seqs {gaps}, duplicates {duplicates}, unexpected seqs {beyond}), errors {Join(controlErrors)}");
        Console.WriteLine($"control latency ms: p50 {DrillKit.Ms(DrillKit.PercentileMs(latencies, 50))}, p99 {DrillKit.Ms(DrillKit.PercentileMs(latencies, 99))}, max {DrillKit.Ms(DrillKit.PercentileMs(latencies, 100))}");
        for (var i = 0; i < silos.Pids.Count; i++)
        {
            Console.WriteLine($"silo pid {silos.Pids[i]}: RSS before {DrillKit.MiB(watch.Baseline[i])} MiB, peak {DrillKit.MiB(watch.Peak[i])} MiB, after {DrillKit.MiB(watch.After[i])} MiB (bar {DrillKit.MiB(watch.Bar(i, 0.30, 50 * 1024))} MiB)");
        }

        Console.WriteLine($"RSS settle: {(settled ? "within the bar" : "NOT within the bar")} after {settleSeconds:F1} s");
        for (var i = 0; i < silos.Targets.Count; i++)
        {
            Console.WriteLine($"health {silos.Targets[i]}: {watch.HealthPolls[i] - watch.Unhealthy[i]}/{watch.HealthPolls[i]} polls 200");
        }

        var problems = new List<string>();
        if (!watch.AllAlive)
        {
            problems.Add("a silo process died");
        }

        if (watch.Unhealthy.Any(u => u > 0))
        {
            problems.Add("a silo's /health/live was not 200");
        }

        if (gaps > 0 || duplicates > 0 || beyond > 0)
        {
            problems.Add($"the control recipient lacks {gaps} seqs, got {duplicates} duplicates and {beyond} unexpected seqs");
        }

        if (!settled)
        {
            problems.Add("a silo's RSS did not come back within +30 % or +50 MiB of its baseline");
        }

        if (counts.Values.Sum(c => c.Acks) > 0)
        {
            problems.Add("a malformed frame was acked");
        }

        Console.WriteLine(problems.Count == 0 ? "malformed-drill: PASSED" : $"malformed-drill: FAILED: {string.Join("; ", problems)}");
        return problems.Count == 0 ? 0 : 1;
    }

    private static string Join(IEnumerable<KeyValuePair<string, int>> counts)
    {
        var text = string.Join(" ", counts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        return text.Length == 0 ? "-" : text;
    }
}
