using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Switchboard.Bench.Load;

/// <summary>Prints a report as readable tables and writes it as JSON.</summary>
internal static class ReportWriter
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static async Task WriteJsonAsync(BenchReport report, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, Json));
    }

    public static string Format(BenchReport report)
    {
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine($"== {report.Title} · {report.Mode} · {string.Join(", ", report.Targets)}{(report.Label is null ? string.Empty : $" · {report.Label}")}");
        text.AppendLine($"   {string.Join(", ", report.Settings.Select(s => $"{s.Key} {FormatSetting(s.Value)}"))}");
        text.AppendLine($"   generator runtime: {(report.GeneratorEnvironment.Count == 0 ? "defaults" : string.Join(" ", report.GeneratorEnvironment))}");
        if (report.Connections is { } connections)
        {
            text.AppendLine($"   clients by node: {string.Join(", ", connections.ClientsByNode.Select(n => $"{n.Key} {n.Value}"))}");
        }

        if (report.Windows.Count > 0)
        {
            WindowTable(text, report.Windows);
            CpuTable(text, report.Windows[^1]);
        }

        if (report.Steps is { Count: > 0 } steps)
        {
            WindowTable(text, [.. steps.Select(s => s.Window)], [.. steps.Select(s => s.Passed ? "pass" : "FAIL")]);
            var best = steps.LastOrDefault(s => s.Passed);
            if (best is null)
            {
                text.AppendLine("   result: no step passed");
            }
            else
            {
                text.AppendLine($"   result: {best.Window.DeliveredPerSecond:F0} msg/s delivered at the highest passing step ({best.Rate:0.###} msg/s offered); CPU at that step:");
                CpuTable(text, best.Window);
            }
        }

        if (report.Idle is { } idle)
        {
            IdleTable(text, idle);
        }

        if (report.Connections is { } c && (c.UnexpectedCloses + c.ForeignFrames + c.StaleFrames + c.UnknownFrames + c.UnmatchedErrors) > 0)
        {
            text.AppendLine($"   sockets and frames: {c.UnexpectedCloses} unexpected closes ({string.Join(", ", c.CloseReasons.Select(r => $"{r.Key} ×{r.Value}"))}), " +
                $"{c.ForeignFrames} foreign ids, {c.StaleFrames} stale, {c.UnknownFrames} unknown frames, {c.UnmatchedErrors} errors without a request ({string.Join(", ", c.UnmatchedErrorCodes.Select(r => $"{r.Key} ×{r.Value}"))})");
        }

        if (report.Machine is { } machine)
        {
            text.AppendLine($"   machine: {machine.Verdict}");
        }

        text.AppendLine(report.Ok ? "   result: OK (no loss, never-acked, duplicate or misrouted message, no unexpected close)" : $"   PROBLEMS: {string.Join("; ", report.Problems)}");
        return text.ToString();
    }

    private static void WindowTable(StringBuilder text, IReadOnlyList<WindowReport> windows, IReadOnlyList<string>? verdicts = null)
    {
        text.AppendLine();
        text.AppendLine($"   {"window",-18} {"offered/s",10} {"achieved/s",10} {"delivered/s",11} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"max ms",8} {"delivered",9} {"loss",6} {"never-acked",11} {"dup",5} {"misroute",8} {"late",6} {"ack p50/p99 ms",15} {"lag p99 ms",10}{(verdicts is null ? string.Empty : "  step")}");
        for (var i = 0; i < windows.Count; i++)
        {
            var w = windows[i];
            text.AppendLine(
                $"   {w.Name,-18} {w.OfferedRate,10:F1} {w.AchievedRate,10:F1} {w.DeliveredPerSecond,11:F1} {F(w.Latency.P50, "F2"),8} {F(w.Latency.P95, "F2"),8} {F(w.Latency.P99, "F2"),8} {F(w.Latency.Max, "F2"),8} " +
                $"{F(w.DeliveredFraction * 100, "F1") + "%",9} {w.Counts.Lost,6} {w.Counts.NeverAcked,11} {w.Duplicates,5} {w.Misroutes,8} {w.Late,6} {F(w.AckLatency.P50, "F2") + "/" + F(w.AckLatency.P99, "F2"),15} {F(w.SchedulerLag.P99, "F2"),10}" +
                (verdicts is null ? string.Empty : $"  {verdicts[i]}"));
            if (w.Counts.Errors.Count > 0)
            {
                text.AppendLine($"   {string.Empty,-18} errors: {string.Join(", ", w.Counts.Errors.Select(e => $"{e.Key} ×{e.Value}"))}");
            }

            // W3's steps are short and many; the timeline is for a window whose tail needs placing.
            if (verdicts is null && w.WorstBySecond is { Length: > 0 } worst)
            {
                text.AppendLine($"   {string.Empty,-18} worst ms per second of the window: {string.Join(' ', worst.Select(ms => ms.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");
            }
        }
    }

    private static void CpuTable(StringBuilder text, WindowReport window)
    {
        text.AppendLine();
        text.AppendLine($"   CPU over the {window.Seconds:F1} s window ({window.Counts.Delivered} deliveries, {window.Counts.Sent} messages)");
        text.AppendLine($"   {"process",-22} {"pid",8} {"cores",7} {"µs/delivery",12} {"µs/message",11} {"RSS MiB",9}");
        foreach (var p in window.Cpu.Processes)
        {
            CpuRow(text, p.InPath ? p.Name : $"{p.Name} (not in path)", p);
        }

        CpuRow(text, "server (in path)", window.Cpu.Server);
        CpuRow(text, "generator", window.Cpu.Generator);
        text.AppendLine($"   {string.Empty,-22} {string.Empty,8} (allocated {F(window.Cpu.GeneratorBytesPerMessage, "F0")} B per message)");
        text.AppendLine($"   {"other processes",-22} {string.Empty,8} {F(window.Cpu.OtherCores, "F2"),7}");
    }

    private static void CpuRow(StringBuilder text, string name, ProcessUsage p) =>
        text.AppendLine($"   {name,-22} {p.Pid?.ToString(CultureInfo.InvariantCulture) ?? string.Empty,8} {F(p.Cores, "F3"),7} {F(p.MicrosPerDelivery, "F1"),12} {F(p.MicrosPerMessage, "F1"),11} {F(p.RssKiB / 1024.0, "F1"),9}");

    private static void IdleTable(StringBuilder text, IdleReport idle)
    {
        var names = idle.KiBPerConnection.Keys.ToList();
        text.AppendLine();
        text.AppendLine($"   {"connections",11}  {string.Join("  ", names.Select(n => $"{n + " MiB",16}"))}");
        foreach (var sample in idle.Samples)
        {
            text.AppendLine($"   {sample.Connections,11}  {string.Join("  ", names.Select(n => $"{F(sample.RssKiB.GetValueOrDefault(n) / 1024.0, "F1") + Held(sample, n),16}"))}");
        }

        text.AppendLine($"   KiB per connection (slope over the chunks): {string.Join(", ", idle.KiBPerConnection.Select(s => $"{s.Key} {F(s.Value, "F2")}"))}; silos together {F(idle.SilosKiBPerConnection, "F2")}");
    }

    private static string Held(IdleSample sample, string name) =>
        sample.ConnectionsByNode.TryGetValue(name, out var held) ? $" ({held})" : string.Empty;

    private static string FormatSetting(object value) => value switch
    {
        IEnumerable<double> list => string.Join(",", list.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture))),
        double d => d.ToString("0.###", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };

    public static string F(double? value, string format) =>
        value is null || !double.IsFinite(value.Value) ? "-" : value.Value.ToString(format, CultureInfo.InvariantCulture);
}
