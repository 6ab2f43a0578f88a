using System.Diagnostics;
using System.Globalization;

namespace Switchboard.Bench.Load;

/// <summary>A server-side process to measure; <see cref="InPath"/> is false for a gateway the clients bypass.</summary>
internal sealed record WatchedProcess(string Name, int Pid, string? Url, bool InPath);

/// <summary>CPU seconds of each watched process, of the generator itself and of the whole machine at one instant.</summary>
internal sealed record CpuSnapshot(long Micros, double?[] ProcessSeconds, double? SelfSeconds, double? MachineBusySeconds, long SelfAllocatedBytes);

/// <summary>
/// Reads /proc: CPU time (utime + stime of /proc/&lt;pid&gt;/stat in clock ticks, <c>getconf CLK_TCK</c>), VmRSS
/// of /proc/&lt;pid&gt;/status, the machine's busy time from /proc/stat and its load average.
/// </summary>
internal sealed class ProcessMonitor(IReadOnlyList<WatchedProcess> processes)
{
    private static readonly Lazy<double> TicksPerSecond = new(ReadClockTicks);

    public IReadOnlyList<WatchedProcess> Processes { get; } = processes;

    public CpuSnapshot Sample()
    {
        var seconds = new double?[Processes.Count];
        for (var i = 0; i < Processes.Count; i++)
        {
            seconds[i] = CpuSeconds(Processes[i].Pid.ToString(CultureInfo.InvariantCulture));
        }

        return new CpuSnapshot(BenchClock.NowMicros(), seconds, CpuSeconds("self"), MachineBusySeconds(), GC.GetTotalAllocatedBytes());
    }

    /// <summary>utime + stime in seconds; null when the process is gone.</summary>
    public static double? CpuSeconds(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (utime + stime) / TicksPerSecond.Value;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>VmRSS in KiB; null when the process is gone.</summary>
    public static long? RssKiB(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }

        return null;
    }

    /// <summary>1, 5 and 15 minute load averages.</summary>
    public static double[] LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return [.. parts.Take(3).Select(p => double.Parse(p, CultureInfo.InvariantCulture))];
        }
        catch (Exception exception) when (exception is IOException or FormatException)
        {
            return [];
        }
    }

    /// <summary>Busy CPU seconds of the whole machine (all cores): user + nice + system + irq + softirq + steal.</summary>
    private static double? MachineBusySeconds()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long busy = 0;
            foreach (var index in new[] { 1, 2, 3, 6, 7, 8 })
            {
                busy += long.Parse(fields[index], CultureInfo.InvariantCulture);
            }

            return busy / TicksPerSecond.Value;
        }
        catch (Exception exception) when (exception is IOException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static double ReadClockTicks()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true, UseShellExecute = false })!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return double.TryParse(output, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100;
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return 100;
        }
    }

    /// <summary>
    /// Runs <c>bash cluster.sh status</c> and returns its running processes (<c>NAME PID URL</c> lines; a
    /// <c>gateway PID URL</c> line when there is one). A gateway counts as in the path only when a target is its URL.
    /// </summary>
    public static IReadOnlyList<WatchedProcess> Discover(string? script, IReadOnlyList<Uri> targets)
    {
        script ??= FindClusterScript() ?? throw new UsageException("--discover: deploy/local/cluster.sh not found above the working directory; pass --cluster-script");
        var start = new ProcessStartInfo("bash", [script, "status"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not run bash");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var found = new List<WatchedProcess>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                var url = parts.Length >= 3 ? parts[2] : null;
                found.Add(new WatchedProcess(parts[0], pid, url, IsInPath(parts[0], url, targets)));
            }
        }

        return found;
    }

    public static bool IsInPath(string name, string? url, IReadOnlyList<Uri> targets)
    {
        if (!name.Contains("gateway", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var gateway))
        {
            return targets.Any(t => t.Scheme == "wss");
        }

        return targets.Any(t => t.Host == gateway.Host && t.Port == gateway.Port);
    }

    private static string? FindClusterScript()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "deploy", "local", "cluster.sh");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
