namespace Switchboard.Bench.Load;

/// <summary>What a workload runs with: its options, clients, the processes it measures and the report it fills.</summary>
internal sealed class WorkloadContext(LoadOptions options, LoadEngine engine, ProcessMonitor monitor, ProgressReporter progress, DevApi api, BenchReport report)
{
    private MessageBook? _previous;

    public LoadOptions Options { get; } = options;

    public LoadEngine Engine { get; } = engine;

    public ProcessMonitor Monitor { get; } = monitor;

    public ProgressReporter Progress { get; } = progress;

    public DevApi Api { get; } = api;

    public BenchReport Report { get; } = report;

    /// <summary>Connects clients [from, from + count) and says how long it took and where they landed.</summary>
    public async Task ConnectAsync(int from, int count)
    {
        Progress.Phase = $"connecting {count}";
        var started = BenchClock.NowMicros();
        await Engine.ConnectAsync(from, count, CancellationToken.None);
        var nodes = Engine.Nodes;
        var byNode = new int[nodes.Count];
        for (var i = from; i < from + count; i++)
        {
            byNode[Engine.Clients[i].Node]++;
        }

        Console.WriteLine($"connected {count} clients in {(BenchClock.NowMicros() - started) / 1e6:F1} s: " +
            string.Join(", ", nodes.Select((n, i) => $"{n} {byNode[i]}")));
    }

    /// <summary>
    /// One segment: warm-up (unrecorded), the measured window, then up to <see cref="LoadOptions.Grace"/> for
    /// late deliveries (less when everything has arrived). The previous segment's book is freed then.
    /// </summary>
    public async Task<WindowReport> RunWindowAsync(string name, double rate, double warmup, double measure, int recipientsPerMessage, GroupLayout? groups, NextMessage next)
    {
        var warmupCount = (long)Math.Round(rate * warmup);
        var measuredCount = Math.Max(1, (long)Math.Round(rate * measure));
        var book = Engine.NewBook(warmupCount + measuredCount, measuredCount, measuredCount * recipientsPerMessage, groups);
        Progress.Phase = $"{name} warm-up";
        var schedule = await OpenLoopScheduler.RunAsync(book, rate, warmupCount, measuredCount, next, Monitor, () => Progress.Phase = $"{name} measure");
        var graceMicros = (long)(Options.Grace * 1e6);
        book.EndMeasure(schedule.WindowEndMicros, graceMicros);
        Progress.Phase = $"{name} grace";
        var deadline = schedule.WindowEndMicros + graceMicros;
        while (!book.IsSettled && BenchClock.NowMicros() <= deadline)
        {
            await Task.Delay(10);
        }

        // Rates are over the scheduled window, stretched to the last measured send when the generator fell behind.
        var seconds = (Math.Max(schedule.WindowEndMicros, book.LastMeasuredSendMicros) - schedule.WindowStartMicros) / 1e6;
        var counts = book.CountMeasured();
        var report = new WindowReport(
            name,
            rate,
            seconds,
            counts.Sent / seconds,
            counts.Delivered / seconds,
            counts.Expected > 0 ? (double)counts.Delivered / counts.Expected : null,
            counts,
            book.Late,
            book.Duplicates,
            book.Misroutes,
            book.Inconsistent,
            book.Latency.Summarize(),
            book.AckLatency.Summarize(),
            book.SchedulerLag.Summarize(),
            CpuReport.Compute(Monitor, schedule.Start, schedule.End, counts.Delivered, counts.Sent),
            book.Latency.WorstBySecond());
        if (book.Overflow > 0 || book.Latency.Overflow > 0)
        {
            Report.Problems.Add($"{name}: the generator's records overflowed ({book.Overflow} messages, {book.Latency.Overflow} latency samples): a bug in the generator");
        }

        if (_previous is not null)
        {
            Engine.Retire(_previous);
        }

        _previous = book;
        return report;
    }

    /// <summary>Problems every workload treats as wrong, whatever the load: duplicates, misroutes, inconsistent frames.</summary>
    public void CheckIntegrity(WindowReport window)
    {
        if (window.Duplicates > 0)
        {
            Report.Problems.Add($"{window.Name}: {window.Duplicates} duplicate deliveries");
        }

        if (window.Misroutes > 0)
        {
            Report.Problems.Add($"{window.Name}: {window.Misroutes} misrouted messages");
        }

        if (window.Inconsistent > 0)
        {
            Report.Problems.Add($"{window.Name}: {window.Inconsistent} frames disagreeing with what was sent or acked (conversation, seq, from, to, or a second answer)");
        }
    }

    /// <summary>W1 and W2 must lose nothing and have every message acked.</summary>
    public void CheckDelivery(WindowReport window)
    {
        if (window.Counts.Lost > 0)
        {
            Report.Problems.Add($"{window.Name}: {window.Counts.Lost} deliveries of acked messages lost (not there {Options.Grace} s after the window)");
        }

        if (Options.MaxP99 is { } maxP99 && window.Latency.P99 is { } p99 && p99 > maxP99)
        {
            Report.Problems.Add($"{window.Name}: p99 {p99:F1} ms above --max-p99 {maxP99:F1} ms");
        }

        if (window.Counts.NeverAcked > 0)
        {
            // Answered with an error (by code), or not answered at all within the grace.
            var unanswered = window.Counts.NeverAcked - window.Counts.Failed;
            var reasons = window.Counts.Errors.Select(e => $"{e.Key} {e.Value}").Append(unanswered > 0 ? $"unanswered {unanswered}" : null).OfType<string>();
            Report.Problems.Add($"{window.Name}: {window.Counts.NeverAcked} messages never acked ({string.Join(", ", reasons)})");
        }

        if (window.Counts.Scheduled > window.Counts.Sent)
        {
            Report.Problems.Add($"{window.Name}: {window.Counts.Scheduled - window.Counts.Sent} scheduled messages were never written to a socket");
        }
    }

    /// <summary>The usual figures of a traffic window, for the summary over runs.</summary>
    public void AddWindowFigures(WindowReport window, string prefix = "")
    {
        var f = Report.Figures;
        f[$"{prefix}delivered/s"] = window.DeliveredPerSecond;
        f[$"{prefix}achieved msg/s"] = window.AchievedRate;
        f[$"{prefix}p50 ms"] = window.Latency.P50;
        f[$"{prefix}p95 ms"] = window.Latency.P95;
        f[$"{prefix}p99 ms"] = window.Latency.P99;
        f[$"{prefix}max ms"] = window.Latency.Max;
        f[$"{prefix}loss"] = window.Counts.Lost;
        f[$"{prefix}never-acked"] = window.Counts.NeverAcked;
        f[$"{prefix}duplicates"] = window.Duplicates;
        f[$"{prefix}misroutes"] = window.Misroutes;
        f[$"{prefix}server CPU cores"] = window.Cpu.Server.Cores;
        f[$"{prefix}server CPU µs/delivery"] = window.Cpu.Server.MicrosPerDelivery;
        f[$"{prefix}server CPU µs/message"] = window.Cpu.Server.MicrosPerMessage;
        foreach (var process in window.Cpu.Processes)
        {
            f[$"{prefix}{process.Name} CPU µs/delivery"] = process.MicrosPerDelivery;
        }

        f[$"{prefix}generator CPU cores"] = window.Cpu.Generator.Cores;
        f[$"{prefix}other CPU cores"] = window.Cpu.OtherCores;
    }
}
