using System.Diagnostics;
using System.Globalization;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>One step of a fault, when it happened.</summary>
internal sealed record FaultEvent(long Micros, string What);

/// <summary>
/// What a fault did and when: its steps, the steps that drop sockets (the figures of who was back when are per such
/// step), the window in which a store was down, and what went wrong with the fault itself. Thread-safe.
/// </summary>
internal sealed class FaultTimeline
{
    private readonly Lock _gate = new();
    private readonly List<FaultEvent> _events = [];
    private readonly List<FaultEvent> _disruptions = [];
    private readonly List<string> _problems = [];

    public IReadOnlyList<FaultEvent> Events { get { lock (_gate) { return [.. _events]; } } }

    public IReadOnlyList<FaultEvent> Disruptions { get { lock (_gate) { return [.. _disruptions]; } } }

    public IReadOnlyList<string> Problems { get { lock (_gate) { return [.. _problems]; } } }

    /// <summary>When the store (Redis, MariaDB) was seen down, and when it was being started again; 0 when not.</summary>
    public long DownFromMicros { get; set; }

    public long DownToMicros { get; set; }

    public long Mark(string what, bool disruption = false)
    {
        var now = BenchClock.NowMicros();
        lock (_gate)
        {
            _events.Add(new FaultEvent(now, what));
            if (disruption)
            {
                _disruptions.Add(new FaultEvent(now, what));
            }
        }

        Console.WriteLine($"[fault {DateTime.UnixEpoch.AddTicks(now * 10):HH:mm:ss.fff}] {what}");
        return now;
    }

    public void Problem(string what)
    {
        lock (_gate)
        {
            _problems.Add(what);
        }

        Console.WriteLine($"[fault] PROBLEM: {what}");
    }
}

/// <summary>Stops and starts the local cluster's processes the way an operator does: cluster.sh, its pid files, signals.</summary>
internal sealed class ClusterControl(string script, string dataDir)
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Runs <c>bash cluster.sh ARGS</c> with this environment (so the same SB_* ports) and SB_SKIP_BUILD=1, its lines shown; its output, or null when it failed.</summary>
    public async Task<string?> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["SB_SKIP_BUILD"] = "1";
        start.Environment["SB_DATA_DIR"] = Path.GetFullPath(dataDir);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start bash {script}");
        var output = new System.Text.StringBuilder();
        async Task Pump(StreamReader reader)
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }

                Console.WriteLine($"    cluster.sh {args[0]} | {line}");
            }
        }

        var pumps = Task.WhenAll(Pump(process.StandardOutput), Pump(process.StandardError));
        using var timeout = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Console.WriteLine($"    cluster.sh {string.Join(' ', args)}: no exit within {ScriptTimeout.TotalSeconds:F0} s, killed");
            return null;
        }

        await pumps;
        return process.ExitCode == 0 ? output.ToString() : null;
    }

    /// <summary>The pid in <c>pids/NAME.pid</c> when it is alive and its command line holds <paramref name="mustContain"/>.</summary>
    public int? Pid(string name, string mustContain)
    {
        var file = Path.Combine(dataDir, "pids", $"{name}.pid");
        if (!File.Exists(file) || !int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out var pid) || !KillTarget.IsAlive(pid))
        {
            return null;
        }

        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(mustContain, StringComparison.Ordinal) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

/// <summary>
/// The faults of <c>fault-drill</c>. Each runs beside the traffic, marks its steps on the timeline and says what went
/// wrong with the fault itself; the drill judges the messages.
/// </summary>
internal abstract class Fault(ClusterControl cluster, FaultTimeline timeline)
{
    protected ClusterControl Cluster { get; } = cluster;

    protected FaultTimeline Timeline { get; } = timeline;

    public abstract string Name { get; }

    public abstract string Plan { get; }

    public static Fault Create(FailoverOptions options, FaultTimeline timeline, GatewayProbe probe, Func<long> inFlight)
    {
        var cluster = new ClusterControl(options.ClusterScript, options.DataDir);
        return options.Kind switch
        {
            FaultKind.RollingRestart => new RollingRestart(cluster, timeline, probe),
            FaultKind.RedisOutage => new StoreOutage(cluster, timeline, "redis", "redis-server", options.Down ?? 60, kill: false, inFlight, probe),
            FaultKind.MariaDbOutage => new StoreOutage(cluster, timeline, "mariadb", "mariadbd", options.Down ?? 30, kill: true, inFlight, probe: null),
            FaultKind.ClusterRestart => new ClusterRestart(cluster, timeline),
            _ => throw new UsageException($"no fault for {options.Kind}"),
        };
    }

    public abstract Task RunAsync();

    /// <summary>Runs cluster.sh; a failure is a problem of the fault (false: stop here).</summary>
    protected async Task<bool> ClusterAsync(params string[] args)
    {
        if (await Cluster.RunAsync(args) is not null)
        {
            return true;
        }

        Timeline.Problem($"cluster.sh {string.Join(' ', args)} failed");
        return false;
    }
}

/// <summary>SIGTERM one silo (it drains: unready, sockets closed with 1012), start it, wait until the gateway routes to it; then the next.</summary>
internal sealed class RollingRestart(ClusterControl cluster, FaultTimeline timeline, GatewayProbe probe) : Fault(cluster, timeline)
{
    private static readonly string[] Silos = ["silo-1", "silo-2"];

    public override string Name => "rolling-restart";

    public override string Plan => "SIGTERM silo-1 (cluster.sh stop), cluster.sh up, wait until the gateway routes a new socket to it; then silo-2";

    public override async Task RunAsync()
    {
        foreach (var silo in Silos)
        {
            if (Cluster.Pid(silo, "Switchboard.Silo") is not { } pid)
            {
                Timeline.Problem($"{silo} is not running before its restart");
                return;
            }

            Timeline.Mark($"SIGTERM {silo} (pid {pid}): cluster.sh stop {silo}", disruption: true);
            var stopped = await Cluster.RunAsync("stop", silo);
            if (stopped is null)
            {
                Timeline.Problem($"cluster.sh stop {silo} failed");
                return;
            }

            // cluster.sh sends SIGKILL after the grace period: then the silo did not drain.
            if (stopped.Contains("SIGKILL", StringComparison.Ordinal))
            {
                Timeline.Problem($"{silo} did not stop within its grace after SIGTERM (SIGKILLed)");
            }

            Timeline.Mark($"{silo} stopped");
            if (!await ClusterAsync("up"))
            {
                return;
            }

            Timeline.Mark($"{silo} ready (cluster.sh up waited for its /health/ready)");
            if (!await probe.RoutesToAsync(silo, TimeSpan.FromSeconds(60)))
            {
                Timeline.Problem($"the gateway routed no new socket to {silo} within 60 s of its restart");
                return;
            }

            Timeline.Mark($"the gateway routes new sockets to {silo} ({probe.Attempts} probe sockets so far)");
        }
    }
}

/// <summary>
/// Redis (stopped with SIGTERM: AOF keeps the membership) or MariaDB (SIGKILL: group commits in flight) down for a
/// while, then started again with cluster.sh up. With a <paramref name="probe"/>, halfway through the outage new
/// sockets through the gateway must still reach every silo (it routes with its last known destinations).
/// </summary>
internal sealed class StoreOutage(ClusterControl cluster, FaultTimeline timeline, string name, string command, double down, bool kill, Func<long> inFlight, GatewayProbe? probe)
    : Fault(cluster, timeline)
{
    public override string Name => $"{name}-outage";

    public override string Plan => $"{(kill ? $"SIGKILL {command}" : $"cluster.sh stop {name} (SIGTERM)")}, down {down:0.#} s, then cluster.sh up";

    public override async Task RunAsync()
    {
        if (Cluster.Pid(name, command) is not { } pid)
        {
            Timeline.Problem($"{name} is not running before the outage");
            return;
        }

        if (kill)
        {
            // Kill while sends are on their way to a commit (at most 2 s for some to be), not in a lull between them.
            var lull = Stopwatch.StartNew();
            while (inFlight() < 1 && lull.Elapsed < TimeSpan.FromSeconds(2))
            {
                await Task.Delay(1);
            }

            Timeline.Mark($"SIGKILL {command} (pid {pid}); {inFlight()} sends in flight");
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                Timeline.Problem($"could not SIGKILL {command} (pid {pid}): {exception.Message}");
                return;
            }

            var deadline = Stopwatch.StartNew();
            while (KillTarget.IsAlive(pid))
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(10))
                {
                    Timeline.Problem($"{command} (pid {pid}) still alive 10 s after SIGKILL");
                    return;
                }

                await Task.Delay(20);
            }
        }
        else
        {
            Timeline.Mark($"stop {name} (pid {pid}, SIGTERM): cluster.sh stop {name}; {inFlight()} sends in flight");
            if (!await ClusterAsync("stop", name))
            {
                return;
            }
        }

        Timeline.DownFromMicros = Timeline.Mark($"{name} is down");

        // The outage's length is the drill's subject, not a wait for a condition.
        var outage = Stopwatch.StartNew();
        if (probe is not null)
        {
            await Task.Delay(TimeSpan.FromSeconds(down / 2));
            foreach (var silo in new[] { "silo-1", "silo-2" })
            {
                if (await probe.RoutesToAsync(silo, TimeSpan.FromSeconds(Math.Max(5, down / 4))))
                {
                    Timeline.Mark($"while {name} is down, a new socket through the gateway lands on {silo} ({probe.Attempts} probe sockets so far)");
                }
                else
                {
                    Timeline.Problem($"while {name} was down, no new socket through the gateway landed on {silo}");
                }
            }
        }

        var rest = TimeSpan.FromSeconds(down) - outage.Elapsed;
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest);
        }

        Timeline.DownToMicros = Timeline.Mark($"starting {name}: cluster.sh up");
        if (await ClusterAsync("up"))
        {
            Timeline.Mark($"{name} ready");
        }
    }
}

/// <summary>Everything stopped as `cluster.sh down` stops it (gateway, silos, then MariaDB and Redis), then started with `up`.</summary>
internal sealed class ClusterRestart(ClusterControl cluster, FaultTimeline timeline) : Fault(cluster, timeline)
{
    public override string Name => "cluster-restart";

    public override string Plan => "cluster.sh down (SIGTERM: gateway, silos, MariaDB, Redis; data kept), then cluster.sh up";

    public override async Task RunAsync()
    {
        Timeline.Mark("cluster.sh down: the gateway, both silos, MariaDB and Redis", disruption: true);
        var stopped = await Cluster.RunAsync("down");
        if (stopped is null)
        {
            Timeline.Problem("cluster.sh down failed");
            return;
        }

        if (stopped.Contains("SIGKILL", StringComparison.Ordinal))
        {
            Timeline.Problem("a process did not stop within its grace after SIGTERM (SIGKILLed)");
        }

        Timeline.Mark("everything stopped");
        if (await ClusterAsync("up"))
        {
            Timeline.Mark("everything ready (cluster.sh up)");
        }
    }
}

/// <summary>Opens fresh sockets through the gateway until one lands on a given node: the gateway knows it again.</summary>
internal sealed class GatewayProbe(DevApi api, Uri target, bool insecure, string runTag)
{
    private readonly HttpMessageInvoker _invoker = DrillKit.Invoker(insecure);

    public int Attempts { get; private set; }

    public async Task<bool> RoutesToAsync(string node, TimeSpan deadline)
    {
        var until = Stopwatch.StartNew();
        while (until.Elapsed < deadline)
        {
            Attempts++;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var token = await api.TokenAsync(target, $"p{runTag}{Attempts}", "student", timeout.Token);
                var (socket, reader, landed) = await DrillKit.ConnectAsync(target, token, _invoker, timeout.Token);
                socket.Abort();
                socket.Dispose();
                reader.Dispose();
                if (landed == node)
                {
                    return true;
                }
            }
            catch (Exception exception) when (exception is System.Net.WebSockets.WebSocketException or HttpRequestException or OperationCanceledException or InvalidOperationException)
            {
                // The gateway or the silo is not ready for this socket yet: try again.
            }

            await Task.Delay(200);
        }

        return false;
    }
}
