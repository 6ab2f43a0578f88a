using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>
/// Slow-reader drill: a group spanning both silos takes a steady stream of posts; after a baseline window one member
/// stops reading (socket open, small receive buffer, no reads). The silo must close it with 4008 within the bound,
/// and the other members' p99 delivery latency must stay within the bar of the baseline's.
/// </summary>
internal static class SlowReaderDrill
{
    public const string Usage = """
        slow-reader drill: one member of a group stops reading while a sender posts at a steady rate:
          slow-reader-drill [options]
            --targets URL,URL    the silos (default ws://127.0.0.1:5001,ws://127.0.0.1:5002); members alternate
            --members N          group members, the sender included (100)
            --rate R             posts per second (50; a group takes 100/s)
            --body-bytes N       padding per post, so the slow member's queue (4 MiB) fills in seconds (20480)
            --warmup S           unrecorded traffic first (5, as docs/performance.md's workloads)
            --window S           the baseline window, and the window after the member stops reading (10)
            --bound S            the slow member must be closed with 4008 this soon after it stopped reading (10)
            --bar X              the others' p99 in the drill window must be at most X × the baseline's (1.2)
            --receive-buffer N   the slow member's socket receive buffer in bytes (4096)
            --data-dir DIR       the cluster's data folder: silo logs (the 4008 event) and pids (default $SB_DATA_DIR or deploy/local/.data)
            --insecure           accept a self-signed certificate (wss targets)
            --no-stop            a control run: nobody stops reading; shows the p99 ratio's noise on this machine
        exit code: 0 when the slow member was closed with 4008 within the bound and the others' p99 stayed within the bar;
        1 otherwise (each reason printed); 2 for a bad command line.
        """;

    /// <summary>One member's socket and what it measured, per window (read only by its own receive loop until the end).</summary>
    private sealed class Member(int index, string user)
    {
        public int Index { get; } = index;

        public string User { get; } = user;

        public ClientWebSocket? Socket { get; set; }

        public FrameReader? Reader { get; set; }

        public string Node { get; set; } = "?";

        public List<long> Baseline { get; } = [];

        public List<long> Drill { get; } = [];

        public HashSet<long> Seqs { get; } = [];

        public int Duplicates { get; set; }

        public Task Loop { get; set; } = Task.CompletedTask;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var targets = DrillKit.ParseTargets(string.Join(',', DrillKit.DefaultTargets));
        int members = 100, bodyBytes = 20_480, receiveBuffer = 4096;
        double rate = 50, warmup = 5, window = 10, bound = 10, bar = 1.2;
        var dataDir = DrillKit.DefaultDataDir;
        var insecure = false;
        var noStop = false;
        try
        {
            var option = new OptionCursor(args);
            while (option.MoveNext())
            {
                switch (option.Name)
                {
                    case "--targets": targets = DrillKit.ParseTargets(option.Value()); break;
                    case "--members": members = Math.Max(3, LoadOptions.PositiveInt(option.Name, option.Value())); break;
                    case "--rate": rate = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--body-bytes": bodyBytes = LoadOptions.PositiveInt(option.Name, option.Value()); break;
                    case "--warmup": warmup = LoadOptions.Number(option.Name, option.Value(), allowZero: true); break;
                    case "--window": window = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--bound": bound = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--bar": bar = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--receive-buffer": receiveBuffer = LoadOptions.PositiveInt(option.Name, option.Value()); break;
                    case "--data-dir": dataDir = option.Value(); break;
                    case "--insecure": insecure = true; break;
                    case "--no-stop": noStop = true; break;
                    default: throw new UsageException($"unknown option '{option.Name}'");
                }
            }
        }
        catch (UsageException exception)
        {
            Console.Error.WriteLine($"slow-reader-drill: {exception.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        return await RunAsync(targets, members, rate, bodyBytes, warmup, window, bound, bar, receiveBuffer, dataDir, insecure, noStop);
    }

    private static async Task<int> RunAsync(IReadOnlyList<Uri> targets, int memberCount, double rate, int bodyBytes, double warmup, double window,
        double bound, double bar, int receiveBuffer, string dataDir, bool insecure, bool noStop)
    {
        var started = DateTime.UtcNow;
        void Say(string line) => Console.WriteLine($"[{(DateTime.UtcNow - started).TotalSeconds,5:F1}s] {line}");
        var tag = DrillKit.RunTag();
        var group = $"r{tag}";
        using var api = new DevApi(insecure);
        using var invoker = DrillKit.Invoker(insecure);
        using var slowInvoker = DrillKit.Invoker(insecure, receiveBuffer);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var logs = Directory.Exists(Path.Combine(dataDir, "logs")) ? Directory.GetFiles(Path.Combine(dataDir, "logs"), "silo-*.log") : [];
        Say($"slow-reader-drill {tag}: group {group} of {memberCount} members over {string.Join(", ", targets)}, {rate}/s posts of {bodyBytes} bytes; silo logs: {(logs.Length == 0 ? "none found (--data-dir)" : string.Join(", ", logs))}");

        // Member 0 is the sender (the group's owner); member 1 is the one that stops reading.
        var users = Enumerable.Range(0, memberCount).Select(i => $"r{tag}-{i}").ToArray();
        var tokens = await DrillKit.TokensAsync(api, targets[0], users, "student", cancel.Token);
        tokens[0] = await api.TokenAsync(targets[0], users[0], "teacher", cancel.Token);
        await api.PutGroupAsync(targets[0], tokens[0], group, "open", cancel.Token);
        var members = users.Select((u, i) => new Member(i, u)).ToArray();
        await Parallel.ForEachAsync(members, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancel.Token }, async (m, ct) =>
        {
            var (socket, reader, node) = await DrillKit.ConnectAsync(targets[m.Index % targets.Count], tokens[m.Index], m.Index == 1 ? slowInvoker : invoker, ct);
            (m.Socket, m.Reader, m.Node) = (socket, reader, node);
            if (m.Index > 0)
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes($"{{\"type\":\"join\",\"id\":\"j\",\"group\":\"{group}\"}}"), WebSocketMessageType.Text, true, ct);
                if (!await reader.NextAsync(ct) || !Encoding.UTF8.GetString(reader.Frame).Contains("\"ack\"", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"{m.User}: join was not acked: {Encoding.UTF8.GetString(reader.Frame)}");
                }
            }
        });
        var slow = members[1];
        Say($"{memberCount} members joined: {string.Join(", ", members.GroupBy(m => m.Node).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} on {g.Key}"))}; the slow member {slow.User} is on {slow.Node}, the sender on {members[0].Node}");

        // Window boundaries by send time (µs on the process clock): warm-up, baseline, then the slow member's window.
        var t0 = BenchClock.NowMicros();
        var baselineFrom = t0 + (long)(warmup * 1e6);
        var drillFrom = baselineFrom + (long)(window * 1e6);
        var drillTo = drillFrom + (long)(window * 1e6);
        var stopReading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resumeReading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long stoppedMicros = 0;
        DateTime stoppedUtc = default;
        int? slowClose = null;
        string slowEnd = "open";
        var slowReadAfterStop = 0;

        foreach (var m in members.Skip(1))
        {
            m.Loop = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        if (m == slow && stopReading.Task.IsCompleted && stoppedMicros == 0)
                        {
                            // From here on the socket is never read until the drill has its answer: the server's writes pile up.
                            stoppedMicros = BenchClock.NowMicros();
                            stoppedUtc = DateTime.UtcNow;
                            await resumeReading.Task;
                        }

                        if (!await m.Reader!.NextAsync(CancellationToken.None))
                        {
                            if (m == slow)
                            {
                                slowClose = m.Reader.CloseStatus;
                                slowEnd = $"close frame {m.Reader.CloseStatus}";
                            }

                            return;
                        }

                        var now = BenchClock.NowMicros();
                        if (m == slow && stoppedMicros != 0)
                        {
                            slowReadAfterStop++;
                        }

                        if (Read(m.Reader.Frame) is not (var seq, var sent))
                        {
                            continue;
                        }

                        if (!m.Seqs.Add(seq))
                        {
                            m.Duplicates++;
                        }
                        else if (sent >= baselineFrom && sent < drillFrom)
                        {
                            m.Baseline.Add(now - sent);
                        }
                        else if (sent >= drillFrom && sent < drillTo)
                        {
                            m.Drill.Add(now - sent);
                        }
                    }
                }
                catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or OperationCanceledException)
                {
                    if (m == slow)
                    {
                        slowEnd = $"broken without a close frame ({exception.Message})";
                    }
                }
            });
        }

        // The sender: open loop; the body's "t" first so a reader finds it without scanning the padding.
        var padding = new string('p', bodyBytes);
        var sent = 0;
        var errors = new Dictionary<string, int>();
        var acks = 0;
        var senderLoop = Task.Run(async () =>
        {
            var reader = members[0].Reader!;
            while (await reader.NextAsync(CancellationToken.None))
            {
                using var reply = JsonDocument.Parse(reader.Frame.ToArray());
                var root = reply.RootElement;
                if (root.GetProperty("type").GetString() == "ack")
                {
                    Interlocked.Increment(ref acks);
                }
                else if (root.GetProperty("type").GetString() == "error")
                {
                    lock (errors)
                    {
                        var code = root.GetProperty("code").GetString() ?? "?";
                        errors[code] = errors.GetValueOrDefault(code) + 1;
                    }
                }
            }
        });

        // The 4008 from the silo's side: its log line (event 3014, then the close with 4008) names the user.
        DateTime? tooSlowAt = null;
        string? closedLine = null;
        var offsets = logs.ToDictionary(f => f, f => new FileInfo(f).Length);
        var logWatch = Task.Run(async () =>
        {
            while (!cancel.IsCancellationRequested && (tooSlowAt is null || closedLine is null))
            {
                foreach (var file in logs)
                {
                    using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    stream.Seek(offsets[file], SeekOrigin.Begin);
                    using var text = new StreamReader(stream);
                    var chunk = await text.ReadToEndAsync();
                    var complete = chunk.LastIndexOf('\n') + 1;
                    offsets[file] += Encoding.UTF8.GetByteCount(chunk.AsSpan(0, complete));
                    foreach (var line in chunk[..complete].Split('\n'))
                    {
                        if (!line.Contains($" of {slow.User} ", StringComparison.Ordinal))
                        {
                            continue;
                        }

                        if (line.Contains("too slow", StringComparison.Ordinal) && tooSlowAt is null)
                        {
                            tooSlowAt = LineTime(line) ?? DateTime.UtcNow;
                            Say($"silo log: {line.Trim()}");
                        }
                        else if (line.Contains("closed", StringComparison.OrdinalIgnoreCase) && closedLine is null)
                        {
                            closedLine = line.Trim();
                            Say($"silo log: {closedLine}");
                        }
                    }
                }

                await Task.Delay(100);
            }
        });

        var totalMicros = drillTo - t0;
        var progress = 0L;
        for (var n = 0L; ; n++)
        {
            var due = t0 + (long)(n * 1e6 / rate);
            if (due >= drillTo)
            {
                break;
            }

            var wait = due - BenchClock.NowMicros();
            if (wait > 1000)
            {
                await Task.Delay(TimeSpan.FromMicroseconds(wait));
            }

            if (due >= drillFrom && !stopReading.Task.IsCompleted && !noStop)
            {
                Say($"baseline over; {slow.User} stops reading now");
                stopReading.TrySetResult();
            }

            var frame = $"{{\"type\":\"send\",\"id\":\"{tag}-{n}\",\"to\":\"group:{group}\",\"body\":{{\"t\":{BenchClock.NowMicros()},\"p\":\"{padding}\"}}}}";
            await members[0].Socket!.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, true, cancel.Token);
            sent++;
            if (BenchClock.NowMicros() - t0 >= progress)
            {
                progress += 2_000_000;
                var phase = due < baselineFrom ? "warm-up" : due < drillFrom ? "baseline" : "slow member not reading";
                Say($"{phase}: sent {sent} of {(long)(totalMicros / 1e6 * rate)}, acked {acks}{(tooSlowAt is null ? "" : ", slow member closed")}");
            }
        }

        Say("traffic over; 3 s for late deliveries");
        await Task.Delay(3000);
        var detectWait = noStop ? DateTime.UtcNow : DateTime.UtcNow.AddSeconds(Math.Max(0, bound + 2 - (DateTime.UtcNow - stoppedUtc).TotalSeconds));
        while (tooSlowAt is null && DateTime.UtcNow < detectWait)
        {
            await Task.Delay(100);
        }

        // Now let the slow member read what its buffers hold, to see how its socket ended from its own side.
        resumeReading.TrySetResult();
        await Task.WhenAny(slow.Loop, Task.Delay(5000));
        foreach (var m in members)
        {
            m.Socket!.Abort();
        }

        await Task.WhenAny(Task.WhenAll(members.Select(m => m.Loop).Append(senderLoop)), Task.Delay(5000));
        await Task.WhenAny(logWatch, Task.Delay(500));
        await cancel.CancelAsync();

        var others = members.Skip(2).ToArray();
        var baseline = others.SelectMany(m => m.Baseline).Order().ToList();
        var drill = others.SelectMany(m => m.Drill).Order().ToList();
        var perWindow = (long)(window * rate);
        double baseP99 = DrillKit.PercentileMs(baseline, 99), drillP99 = DrillKit.PercentileMs(drill, 99);
        var ratio = drillP99 / baseP99;
        var toClose = tooSlowAt is { } at ? (at - stoppedUtc).TotalSeconds : double.NaN;

        Console.WriteLine();
        Console.WriteLine($"posts sent {sent}, acked {acks}, errors {(errors.Count == 0 ? "none" : string.Join(" ", errors.Select(e => $"{e.Key}={e.Value}")))}");
        Console.WriteLine($"others ({others.Length} members): baseline deliveries {baseline.Count} (expected about {perWindow * others.Length}), p50 {DrillKit.Ms(DrillKit.PercentileMs(baseline, 50))} ms, p99 {DrillKit.Ms(baseP99)} ms, max {DrillKit.Ms(DrillKit.PercentileMs(baseline, 100))} ms");
        Console.WriteLine($"others ({others.Length} members): drill deliveries {drill.Count} (expected about {perWindow * others.Length}), p50 {DrillKit.Ms(DrillKit.PercentileMs(drill, 50))} ms, p99 {DrillKit.Ms(drillP99)} ms, max {DrillKit.Ms(DrillKit.PercentileMs(drill, 100))} ms");
        Console.WriteLine($"p99 drill / baseline: {ratio.ToString("F2", CultureInfo.InvariantCulture)} (bar {bar.ToString("F2", CultureInfo.InvariantCulture)})");
        Console.WriteLine($"duplicates at the others: {others.Sum(m => m.Duplicates)}; posts acked but never delivered live to one of them: {others.Sum(m => acks - m.Seqs.Count)}");
        Console.WriteLine(noStop ? $"member {slow.User} on {slow.Node} kept reading (--no-stop)" : $"slow member {slow.User} on {slow.Node}: stopped reading at {stoppedUtc:HH:mm:ss.fff}, the silo logged 4008 {(double.IsNaN(toClose) ? "never (within the wait)" : $"{toClose.ToString("F2", CultureInfo.InvariantCulture)} s later")}; close logged: {closedLine ?? "-"}");
        Console.WriteLine($"slow member's own view: read {slowReadAfterStop} buffered messages after resuming, then {slowEnd}");

        var problems = new List<string>();
        if (noStop)
        {
            Console.WriteLine($"control run (--no-stop): nobody stopped reading; the ratio above is this machine's noise");
            if (tooSlowAt is not null)
            {
                problems.Add("a member that kept reading was closed as too slow");
            }
        }
        else if (double.IsNaN(toClose) || toClose > bound)
        {
            problems.Add($"the slow member was not closed with 4008 within {bound} s ({(double.IsNaN(toClose) ? "not at all" : $"{toClose:F2} s")})");
        }

        if (!noStop && closedLine is not null && !closedLine.Contains("4008", StringComparison.Ordinal))
        {
            problems.Add("the silo closed the slow member with another code");
        }

        if (!(ratio <= bar))
        {
            problems.Add($"the others' p99 rose {ratio:F2}× (bar {bar:F2}×): {DrillKit.Ms(baseP99)} -> {DrillKit.Ms(drillP99)} ms");
        }

        if (others.Sum(m => m.Duplicates) > 0)
        {
            problems.Add("duplicate deliveries");
        }

        Console.WriteLine(problems.Count == 0 ? "slow-reader-drill: PASSED" : $"slow-reader-drill: FAILED: {string.Join("; ", problems)}");
        return problems.Count == 0 ? 0 : 1;
    }

    /// <summary>A <c>message</c> frame's seq and its body's send time "t"; null for any other frame.</summary>
    private static (long Seq, long Sent)? Read(ReadOnlySpan<byte> frame)
    {
        var reader = new Utf8JsonReader(frame);
        long seq = -1;
        var isMessage = false;
        var depth = 0;
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.StartObject)
            {
                depth++;
                continue;
            }

            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (depth == 1 && reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                isMessage = reader.ValueTextEquals("message"u8);
                if (!isMessage)
                {
                    return null;
                }
            }
            else if (depth == 1 && reader.ValueTextEquals("seq"u8))
            {
                reader.Read();
                seq = reader.GetInt64();
            }
            else if (depth == 2 && reader.ValueTextEquals("t"u8))
            {
                // "t" comes first in the body: stop before the padding.
                reader.Read();
                return isMessage && seq > 0 ? (seq, reader.GetInt64()) : null;
            }
        }

        return null;
    }

    /// <summary>The UTC time at the start of a silo log line (<c>2026-12-06T15:40:03.006Z info: ...</c>).</summary>
    private static DateTime? LineTime(string line) =>
        line.Length > 24 && DateTime.TryParse(line.AsSpan(0, 24), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at) ? at : null;
}
