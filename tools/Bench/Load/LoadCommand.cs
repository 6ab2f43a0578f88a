namespace Switchboard.Bench.Load;

/// <summary><c>w1</c> ... <c>w4</c>: runs one socket workload against a running cluster and reports it.</summary>
internal static class LoadCommand
{
    public static async Task<int> RunAsync(string workload, IReadOnlyList<string> args)
    {
        LoadOptions options;
        IReadOnlyList<WatchedProcess> processes;
        try
        {
            options = LoadOptions.Parse(workload, args);
            processes = WatchedProcesses(options);
        }
        catch (UsageException exception)
        {
            Console.Error.WriteLine($"bench {workload}: {exception.Message}");
            Console.Error.WriteLine(LoadOptions.Usage);
            return 2;
        }

        var monitor = new ProcessMonitor(processes);
        var gateway = processes.Any(p => p.Name.Contains("gateway", StringComparison.OrdinalIgnoreCase) && p.InPath)
            || (options.Targets.Count == 1 && options.Targets[0].Scheme == "wss");
        var report = new BenchReport
        {
            Workload = workload,
            Title = Workloads.Titles[workload],
            Mode = gateway ? "gateway" : "direct",
            Label = options.Label,
            StartedUtc = DateTime.UtcNow,
            Targets = [.. options.Targets.Select(t => t.ToString().TrimEnd('/'))],
            Settings = Workloads.Settings(options),
            GeneratorEnvironment = RuntimeTuning(),
        };
        var loadStart = ProcessMonitor.LoadAverage();
        var started = BenchClock.NowMicros();
        Console.WriteLine($"{report.Title}: {report.Mode} to {string.Join(", ", report.Targets)}; measuring " +
            (processes.Count == 0 ? "no server processes (use --discover or --server-pids)" : string.Join(", ", processes.Select(p => $"{p.Name} ({p.Pid}{(p.InPath ? string.Empty : ", not in path")})"))));

        using var api = new DevApi(options.Insecure);
        var engine = new LoadEngine(options, Workloads.ClientCount(options), api);
        await using (engine.ConfigureAwait(true))
        {
            var progress = new ProgressReporter(engine.Counters);
            await using (progress.ConfigureAwait(true))
            {
                try
                {
                    await Workloads.RunAsync(new WorkloadContext(options, engine, monitor, progress, api, report));
                }
                catch (Exception exception) when (exception is not UsageException)
                {
                    Console.Error.WriteLine($"bench {workload}: aborted: {exception}");
                    report.Problems.Add($"aborted: {exception.GetType().Name}: {exception.Message}");
                }
                finally
                {
                    progress.Phase = "closing";
                    await engine.CloseAllAsync();
                }
            }
        }

        var counters = engine.Counters;
        var nodes = engine.Nodes;
        report.Connections = new ConnectionReport(
            nodes.ToDictionary(n => n, n => engine.Clients.Count(c => c.Node >= 0 && nodes[c.Node] == n)),
            counters.UnexpectedCloses,
            engine.CloseReasons,
            counters.ForeignFrames,
            counters.StaleFrames,
            counters.UnknownFrames,
            counters.UnmatchedErrors,
            engine.UnmatchedErrors);
        if (engine.AnswersWithRead)
        {
            Console.WriteLine($"reads: {counters.ReadsSent} sent for delivered messages, {counters.ReadsAcked} acked, {counters.ReadReceipts} live read frames received by the senders");
            if (counters.ReadsAcked < counters.ReadsSent)
            {
                report.Problems.Add($"{counters.ReadsSent - counters.ReadsAcked} reads never acked");
            }
        }

        if (counters.UnexpectedCloses > 0)
        {
            report.Problems.Add($"{counters.UnexpectedCloses} sockets closed by the server or the network");
        }

        if (counters.ForeignFrames > 0)
        {
            report.Problems.Add($"{counters.ForeignFrames} frames carried request ids this run never sent (misroutes from elsewhere)");
        }

        if (counters.UnknownFrames + counters.UnmatchedErrors > 0)
        {
            report.Problems.Add($"{counters.UnknownFrames} unknown frames, {counters.UnmatchedErrors} errors matching no request");
        }

        report.Machine = Machine(report, loadStart);
        report.WallSeconds = (BenchClock.NowMicros() - started) / 1e6;
        Console.Write(ReportWriter.Format(report));
        if (options.Out is not null)
        {
            await ReportWriter.WriteJsonAsync(report, options.Out);
            Console.WriteLine($"   report: {options.Out}");
        }

        return report.Ok ? 0 : 1;
    }

    private static IReadOnlyList<WatchedProcess> WatchedProcesses(LoadOptions options)
    {
        var processes = new List<WatchedProcess>();
        if (options.Discover)
        {
            // Targets are needed to tell whether a gateway is in the path; default to the discovered silos.
            var discovered = ProcessMonitor.Discover(options.ClusterScript, options.Targets);
            if (options.Targets.Count == 0)
            {
                foreach (var silo in discovered.Where(p => p.Name.StartsWith("silo", StringComparison.Ordinal) && p.Url is not null))
                {
                    options.Targets.Add(LoadOptions.ParseTarget(silo.Url!));
                }

                discovered = ProcessMonitor.Discover(options.ClusterScript, options.Targets);
            }

            processes.AddRange(discovered);
        }

        if (options.Targets.Count == 0)
        {
            options.Targets.Add(new Uri("ws://127.0.0.1:5001"));
            options.Targets.Add(new Uri("ws://127.0.0.1:5002"));
        }

        foreach (var (name, pid) in options.ServerPids)
        {
            processes.RemoveAll(p => p.Name == name);
            processes.Add(new WatchedProcess(name, pid, null, ProcessMonitor.IsInPath(name, null, options.Targets)));
        }

        return processes;
    }

    /// <summary>DOTNET_* variables that tune the runtime (not the SDK's own: CLI, first-run, root).</summary>
    private static List<string> RuntimeTuning() =>
    [
        .. Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => (k.StartsWith("DOTNET_", StringComparison.Ordinal) || k.StartsWith("COMPlus_", StringComparison.Ordinal))
                && !k.StartsWith("DOTNET_CLI", StringComparison.Ordinal) && !k.StartsWith("DOTNET_ROOT", StringComparison.Ordinal)
                && k is not "DOTNET_NOLOGO" and not "DOTNET_GENERATE_ASPNET_CERTIFICATE" and not "DOTNET_SKIP_FIRST_TIME_EXPERIENCE")
            .Order(StringComparer.Ordinal)
            .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}"),
    ];

    /// <summary>Otherwise busy: processes other than the watched ones and the generator used ≥ 0.1 core during the windows.</summary>
    private static MachineReport Machine(BenchReport report, double[] loadStart)
    {
        var windows = report.Windows.Concat(report.Steps?.Select(s => s.Window) ?? []).ToList();
        var others = windows.Select(w => w.Cpu.OtherCores).Where(o => o is not null).Select(o => o!.Value).ToList();
        double? other = others.Count == 0 ? null : others.Max();
        var loadEnd = ProcessMonitor.LoadAverage();
        var cores = Environment.ProcessorCount;
        var load = loadStart.Length > 0 ? loadStart[0] : double.NaN;
        var busy = other is not null ? other >= 0.1 : load >= 0.5;
        var verdict = $"{cores} cores; load average {string.Join(" ", loadStart.Select(l => l.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))} at start " +
            $"(1/5/15 min, includes what ran just before); " +
            (other is null
                ? $"{(busy ? "the load average suggests the machine was otherwise busy" : "the load average suggests it was otherwise idle")}"
                : $"other processes used up to {other:F2} cores during the measured windows: {(busy ? "otherwise BUSY" : "otherwise idle")}");
        return new MachineReport(cores, loadStart, loadEnd, other, busy, verdict);
    }
}
