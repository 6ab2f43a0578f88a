namespace Switchboard.Bench.Load;

/// <summary>One run of one workload, as written to <c>--out</c>. <see cref="Figures"/> is what <c>summary</c> aggregates.</summary>
internal sealed class BenchReport
{
    public string Tool { get; init; } = "Switchboard.Bench";

    public required string Workload { get; init; }

    public required string Title { get; init; }

    /// <summary><c>direct</c> (clients straight to the silos) or <c>gateway</c>.</summary>
    public required string Mode { get; init; }

    public string? Label { get; init; }

    public required DateTime StartedUtc { get; init; }

    public double WallSeconds { get; set; }

    public required List<string> Targets { get; init; }

    public required Dictionary<string, object> Settings { get; init; }

    /// <summary>The generator's own runtime tuning (DOTNET_* variables it ran with); the servers are not touched.</summary>
    public List<string> GeneratorEnvironment { get; init; } = [];

    public MachineReport? Machine { get; set; }

    public ConnectionReport? Connections { get; set; }

    public List<WindowReport> Windows { get; } = [];

    public List<StepReport>? Steps { get; set; }

    public IdleReport? Idle { get; set; }

    public Dictionary<string, double?> Figures { get; } = [];

    /// <summary>What makes this run wrong (loss, duplicates, misroutes, ...); empty when it is clean.</summary>
    public List<string> Problems { get; } = [];

    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// The machine during the run: cores, load averages, and the CPU used by processes that are neither watched
/// nor the generator during the measured windows ("other"), which says whether the machine was otherwise busy.
/// </summary>
internal sealed record MachineReport(int Cores, double[] LoadAverageStart, double[] LoadAverageEnd, double? OtherCores, bool OtherwiseBusy, string Verdict);

/// <summary>Which nodes the clients landed on and what went wrong with sockets or frames.</summary>
internal sealed record ConnectionReport(
    Dictionary<string, int> ClientsByNode,
    long UnexpectedCloses,
    Dictionary<string, long> CloseReasons,
    long ForeignFrames,
    long StaleFrames,
    long UnknownFrames,
    long UnmatchedErrors,
    Dictionary<string, long> UnmatchedErrorCodes);

/// <summary>One measured window: rates, latency, what was lost and what the processes spent on it.</summary>
internal sealed record WindowReport(
    string Name,
    double OfferedRate,
    double Seconds,
    double AchievedRate,
    double DeliveredPerSecond,
    double? DeliveredFraction,
    WindowCounts Counts,
    long Late,
    long Duplicates,
    long Misroutes,
    long Inconsistent,
    LatencyStats Latency,
    LatencyStats AckLatency,
    LatencyStats SchedulerLag,
    CpuReport Cpu,
    double[]? WorstBySecond = null);

/// <summary>CPU and memory per process over a window; per delivery and per message in microseconds.</summary>
internal sealed record ProcessUsage(string Name, int? Pid, bool InPath, double? CpuSeconds, double? Cores, double? MicrosPerDelivery, double? MicrosPerMessage, long? RssKiB);

/// <param name="GeneratorBytesPerMessage">Managed bytes the generator allocated per message sent in the window (its hot path should allocate next to nothing).</param>
internal sealed record CpuReport(List<ProcessUsage> Processes, ProcessUsage Server, ProcessUsage Generator, double? OtherCores, double? GeneratorBytesPerMessage)
{
    /// <summary>Server = every watched process in the path (silos, the gateway when used, Redis, MariaDB).</summary>
    public static CpuReport Compute(ProcessMonitor monitor, CpuSnapshot start, CpuSnapshot end, long deliveries, long messages)
    {
        var seconds = Math.Max(1e-6, (end.Micros - start.Micros) / 1e6);
        var processes = new List<ProcessUsage>();
        double serverCpu = 0;
        double watchedCpu = 0;
        var serverComplete = true;
        for (var i = 0; i < monitor.Processes.Count; i++)
        {
            var process = monitor.Processes[i];
            var cpu = end.ProcessSeconds[i] - start.ProcessSeconds[i];
            processes.Add(Usage(process.Name, process.Pid, process.InPath, cpu, seconds, deliveries, messages, ProcessMonitor.RssKiB(process.Pid)));
            watchedCpu += cpu ?? 0;
            if (process.InPath)
            {
                serverCpu += cpu ?? 0;
                serverComplete &= cpu is not null;
            }
        }

        var server = Usage("server", null, true, monitor.Processes.Count > 0 && serverComplete ? serverCpu : null, seconds, deliveries, messages, null);
        var self = end.SelfSeconds - start.SelfSeconds;
        var generator = Usage("generator", Environment.ProcessId, false, self, seconds, deliveries, messages, ProcessMonitor.RssKiB(Environment.ProcessId));
        var other = end.MachineBusySeconds - start.MachineBusySeconds - watchedCpu - (self ?? 0);
        var allocated = end.SelfAllocatedBytes - start.SelfAllocatedBytes;
        return new CpuReport(processes, server, generator, other is null ? null : Math.Max(0, other.Value / seconds), messages > 0 ? (double)allocated / messages : null);
    }

    private static ProcessUsage Usage(string name, int? pid, bool inPath, double? cpu, double seconds, long deliveries, long messages, long? rss) => new(
        name,
        pid,
        inPath,
        cpu,
        cpu / seconds,
        deliveries > 0 ? cpu * 1e6 / deliveries : null,
        messages > 0 ? cpu * 1e6 / messages : null,
        rss);
}

/// <summary>W3: one attempt at one offered rate.</summary>
internal sealed record StepReport(double Rate, int Attempt, bool Passed, string Verdict, WindowReport Window);

/// <summary>W4: RSS after each chunk and the least-squares slope of RSS against connections held.</summary>
internal sealed record IdleReport(List<IdleSample> Samples, Dictionary<string, double?> KiBPerConnection, double? SilosKiBPerConnection);

internal sealed record IdleSample(int Connections, Dictionary<string, int> ConnectionsByNode, Dictionary<string, long?> RssKiB);
