using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>
/// Reconnect storm: N sockets are aborted at once and reconnect with exponential backoff and full jitter, then
/// <c>resume</c>; senders that stay connected keep writing to them meanwhile. Every acked message must end up held by
/// its recipient, and no silo may die.
/// </summary>
internal static class ReconnectStorm
{
    public const string Usage = """
        reconnect storm: N sockets dropped at once reconnect (exponential backoff, full jitter) and resume:
          reconnect-storm [options]
            --targets URL,URL    where sockets connect (default wss://127.0.0.1:8443, the gateway; with --insecure)
            --clients N          sockets dropped at once, one user each (5000)
            --senders K          senders that stay connected, each writing to its slice of the clients (50)
            --rate R             messages per second in all while the storm lasts (200)
            --send-for S         seconds of sending from the drop on (10)
            --base-ms B          backoff: attempt k waits uniformly 0..min(cap, B × 2^k) ms (200)
            --cap-ms C           backoff cap (5000)
            --deadline S         at most this long from the drop for everyone to be back and caught up (120)
            --data-dir DIR       the cluster's data folder, for the silo pids (default $SB_DATA_DIR or deploy/local/.data)
            --insecure           accept a self-signed certificate
        exit code: 0 when every client is back, holds every message acked to it, and every silo is alive; 1 otherwise.
        """;

    private sealed class Client(int index, string user, string conversation)
    {
        public int Index { get; } = index;

        public string User { get; } = user;

        public string Conversation { get; } = conversation;

        public ClientWebSocket? Socket { get; set; }

        /// <summary>Seqs held of its one conversation; written by its receive loop, read under the lock.</summary>
        public HashSet<long> Held { get; } = [];

        public ConcurrentDictionary<long, byte> Acked { get; } = new();

        public long BackMicros { get; set; }

        public long ResumedMicros { get; set; }

        public int Attempts { get; set; }
    }

    public static async Task<int> RunAsync(string[] args)
    {
        IReadOnlyList<Uri> targets = [LoadOptions.ParseTarget("wss://127.0.0.1:8443")];
        int clients = 5000, senders = 50;
        double rate = 200, sendFor = 10, baseMs = 200, capMs = 5000, deadline = 120;
        var dataDir = DrillKit.DefaultDataDir;
        var insecure = false;
        try
        {
            var option = new OptionCursor(args);
            while (option.MoveNext())
            {
                switch (option.Name)
                {
                    case "--targets": targets = DrillKit.ParseTargets(option.Value()); break;
                    case "--clients": clients = LoadOptions.PositiveInt(option.Name, option.Value()); break;
                    case "--senders": senders = LoadOptions.PositiveInt(option.Name, option.Value()); break;
                    case "--rate": rate = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--send-for": sendFor = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--base-ms": baseMs = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--cap-ms": capMs = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--deadline": deadline = LoadOptions.Number(option.Name, option.Value()); break;
                    case "--data-dir": dataDir = option.Value(); break;
                    case "--insecure": insecure = true; break;
                    default: throw new UsageException($"unknown option '{option.Name}'");
                }
            }

            var pids = DrillKit.SiloPids(null, dataDir);
            return await RunAsync(targets, pids, clients, Math.Min(senders, clients), rate, sendFor, baseMs, capMs, deadline, insecure);
        }
        catch (UsageException exception)
        {
            Console.Error.WriteLine($"reconnect-storm: {exception.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static async Task<int> RunAsync(IReadOnlyList<Uri> targets, IReadOnlyList<int> pids, int count, int senderCount, double rate, double sendFor,
        double baseMs, double capMs, double deadlineSeconds, bool insecure)
    {
        var started = DateTime.UtcNow;
        void Say(string line) => Console.WriteLine($"[{(DateTime.UtcNow - started).TotalSeconds,5:F1}s] {line}");
        var tag = DrillKit.RunTag();
        using var api = new DevApi(insecure);
        using var invoker = DrillKit.Invoker(insecure);
        Say($"reconnect-storm {tag}: {count} clients and {senderCount} senders over {string.Join(", ", targets)}; backoff full jitter 0..min({capMs}, {baseMs} × 2^k) ms");

        var senderUsers = Enumerable.Range(0, senderCount).Select(j => $"t{tag}-s{j}").ToArray();
        var all = Enumerable.Range(0, count).Select(i =>
        {
            string user = $"t{tag}-{i}", sender = senderUsers[i % senderCount];
            // dm:<a>:<b> with a < b in ordinal order (docs/protocol.md).
            var conversation = string.CompareOrdinal(user, sender) < 0 ? $"dm:{user}:{sender}" : $"dm:{sender}:{user}";
            return new Client(i, user, conversation);
        }).ToArray();
        var tokens = await DrillKit.TokensAsync(api, targets[0], [.. all.Select(c => c.User), .. senderUsers], "student", CancellationToken.None);
        Say($"{tokens.Length} tokens");

        var holdLock = new Lock();
        async Task ReadAsync(Client client, ClientWebSocket socket, FrameReader reader)
        {
            try
            {
                while (await reader.NextAsync(CancellationToken.None))
                {
                    using var frame = JsonDocument.Parse(reader.Frame.ToArray());
                    var root = frame.RootElement;
                    var type = root.GetProperty("type").GetString();
                    if (type == "message")
                    {
                        lock (holdLock)
                        {
                            client.Held.Add(root.GetProperty("seq").GetInt64());
                        }
                    }
                    else if (type == "ack" && root.GetProperty("id").GetString() == "resume")
                    {
                        client.ResumedMicros = BenchClock.NowMicros();
                    }
                }
            }
            catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or OperationCanceledException)
            {
                // Aborted by the storm or at the end.
            }
            finally
            {
                reader.Dispose();
            }
        }

        async Task ConnectAsync(Client client, bool resume)
        {
            var (socket, reader, _) = await DrillKit.ConnectAsync(targets[client.Index % targets.Count], tokens[client.Index], invoker, CancellationToken.None);
            client.Socket = socket;
            _ = Task.Run(() => ReadAsync(client, socket, reader));
            if (resume)
            {
                client.BackMicros = BenchClock.NowMicros();
                long since;
                lock (holdLock)
                {
                    // What it holds without a gap: the replay fills everything after it.
                    since = 0;
                    while (client.Held.Contains(since + 1))
                    {
                        since++;
                    }
                }

                await socket.SendAsync(Encoding.UTF8.GetBytes($"{{\"type\":\"resume\",\"id\":\"resume\",\"since\":{{\"{client.Conversation}\":{since}}}}}"), WebSocketMessageType.Text, true, CancellationToken.None);
            }
        }

        var connectStart = DateTime.UtcNow;
        await Parallel.ForEachAsync(all, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (c, _) => await ConnectAsync(c, resume: false));
        Say($"{count} clients connected in {(DateTime.UtcNow - connectStart).TotalSeconds:F1} s");

        // Senders: stay connected; a send to a dropped client is stored and acked, and must reach it by resume.
        var acks = 0;
        var errors = new ConcurrentDictionary<string, int>();
        var senderSockets = new ClientWebSocket[senderCount];
        var pendingTo = new ConcurrentDictionary<string, Client>();
        for (var j = 0; j < senderCount; j++)
        {
            var (socket, reader, _) = await DrillKit.ConnectAsync(targets[j % targets.Count], tokens[count + j], invoker, CancellationToken.None);
            senderSockets[j] = socket;
            _ = Task.Run(async () =>
            {
                try
                {
                    while (await reader.NextAsync(CancellationToken.None))
                    {
                        using var frame = JsonDocument.Parse(reader.Frame.ToArray());
                        var root = frame.RootElement;
                        var type = root.GetProperty("type").GetString();
                        if (type is not ("ack" or "error") || root.GetProperty("id").GetString() is not { } id || !pendingTo.TryRemove(id, out var to))
                        {
                            continue;
                        }

                        if (type == "ack")
                        {
                            to.Acked[root.GetProperty("seq").GetInt64()] = 0;
                            Interlocked.Increment(ref acks);
                        }
                        else
                        {
                            errors.AddOrUpdate(root.GetProperty("code").GetString() ?? "?", 1, (_, n) => n + 1);
                        }
                    }
                }
                catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException)
                {
                    // Closed at the end.
                }
            });
        }

        var aliveBefore = pids.All(KillTarget.IsAlive);
        Say($"dropping all {count} sockets at once (abort)");
        var dropMicros = BenchClock.NowMicros();
        foreach (var c in all)
        {
            c.Socket!.Abort();
        }

        var failedAttempts = 0;
        var failures = new ConcurrentDictionary<string, int>();
        var storm = Task.WhenAll(all.Select(c => Task.Run(async () =>
        {
            for (var attempt = 0; ; attempt++)
            {
                // Full jitter: uniform over 0..min(cap, base × 2^attempt), so retries spread instead of arriving in waves.
                await Task.Delay(Backoff.FullJitter(attempt, baseMs, capMs));
                try
                {
                    c.Attempts++;
                    await ConnectAsync(c, resume: true);
                    return;
                }
                catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or InvalidOperationException or HttpRequestException)
                {
                    Interlocked.Increment(ref failedAttempts);
                    // By kind: a refused upgrade (its status), a timeout, a reset: they call for different fixes.
                    var why = exception is WebSocketException { InnerException: { } inner } ? $"{exception.GetType().Name}/{inner.GetType().Name}" : exception.GetType().Name;
                    failures.AddOrUpdate($"{why}: {exception.Message}", 1, (_, n) => n + 1);
                }
            }
        })));

        // The senders, open loop at the rate, one writer per sender socket.
        var sent = 0;
        var locks = senderSockets.Select(_ => new SemaphoreSlim(1, 1)).ToArray();
        var sending = Task.Run(async () =>
        {
            var total = (int)(rate * sendFor);
            for (var n = 0; n < total; n++)
            {
                var due = dropMicros + (long)(n * 1e6 / rate);
                var wait = due - BenchClock.NowMicros();
                if (wait > 1000)
                {
                    await Task.Delay(TimeSpan.FromMicroseconds(wait));
                }

                var to = all[Random.Shared.Next(count)];
                var j = to.Index % senderCount;
                var id = $"{tag}-{n}";
                pendingTo[id] = to;
                await locks[j].WaitAsync();
                try
                {
                    await senderSockets[j].SendAsync(Encoding.UTF8.GetBytes($"{{\"type\":\"send\",\"id\":\"{id}\",\"to\":\"user:{to.User}\",\"body\":{n}}}"), WebSocketMessageType.Text, true, CancellationToken.None);
                    sent++;
                }
                finally
                {
                    locks[j].Release();
                }
            }
        });

        var deadline = DateTime.UtcNow.AddSeconds(deadlineSeconds);
        long allBack = 0, caughtUp = 0;
        var nextReport = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            var back = all.Count(c => c.BackMicros != 0);
            int missing;
            lock (holdLock)
            {
                missing = all.Sum(c => c.Acked.Keys.Count(s => !c.Held.Contains(s)));
            }

            if (back == count && allBack == 0)
            {
                allBack = all.Max(c => c.BackMicros);
            }

            if (allBack != 0 && sending.IsCompleted && pendingTo.IsEmpty && missing == 0 && all.All(c => c.ResumedMicros != 0))
            {
                caughtUp = BenchClock.NowMicros();
                break;
            }

            if (DateTime.UtcNow >= nextReport)
            {
                nextReport = DateTime.UtcNow.AddSeconds(2);
                Say($"back {back}/{count} (failed attempts {failedAttempts}); sent {sent}, acked {acks}, acked but not held {missing}, unanswered {pendingTo.Count}");
            }

            await Task.Delay(200);
        }

        int notHeld;
        lock (holdLock)
        {
            notHeld = all.Sum(c => c.Acked.Keys.Count(s => !c.Held.Contains(s)));
        }

        var attempts = all.Select(c => c.Attempts).Order().ToList();
        var backTimes = all.Where(c => c.BackMicros != 0).Select(c => c.BackMicros - dropMicros).Order().ToList();
        Console.WriteLine();
        Console.WriteLine($"clients {count}: back {backTimes.Count}; time to all back {(allBack == 0 ? "-" : ((allBack - dropMicros) / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " s")} (p50 {DrillKit.Ms(DrillKit.PercentileMs(backTimes, 50) / 1000)} s, p99 {DrillKit.Ms(DrillKit.PercentileMs(backTimes, 99) / 1000)} s)");
        Console.WriteLine($"attempts per client: p50 {attempts[attempts.Count / 2]}, max {attempts[^1]}; failed attempts {failedAttempts}");
        foreach (var (why, n) in failures.OrderByDescending(f => f.Value).Take(5))
        {
            Console.WriteLine($"  {n} failed: {why}");
        }

        Console.WriteLine($"messages: sent {sent}, acked {acks}, errors {(errors.IsEmpty ? "none" : string.Join(" ", errors.Select(e => $"{e.Key}={e.Value}")))}, unanswered {pendingTo.Count}; acked but not held {notHeld}");
        Console.WriteLine($"time to all caught up (every acked message held, every resume acked): {(caughtUp == 0 ? "not within the deadline" : ((caughtUp - dropMicros) / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " s")}");
        var alive = pids.All(KillTarget.IsAlive);
        Console.WriteLine($"silos alive: {(alive ? "all" : "NOT all")} (pids {string.Join(", ", pids)})");

        foreach (var socket in all.Select(c => c.Socket).Concat(senderSockets))
        {
            socket?.Abort();
        }

        var problems = new List<string>();
        if (!aliveBefore || !alive)
        {
            problems.Add("a silo died");
        }

        if (backTimes.Count < count)
        {
            problems.Add($"{count - backTimes.Count} clients never came back");
        }

        if (notHeld > 0 || caughtUp == 0)
        {
            problems.Add($"{notHeld} acked messages not held by their recipient by the deadline");
        }

        Console.WriteLine(problems.Count == 0 ? "reconnect-storm: PASSED" : $"reconnect-storm: FAILED: {string.Join("; ", problems)}");
        return problems.Count == 0 ? 0 : 1;
    }
}
