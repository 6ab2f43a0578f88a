using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Switchboard.Tests.Infrastructure.Servers;

/// <summary>
/// Starts the servers tests need as child processes that cannot outlive the test run: each gets a
/// watchdog that kills it when this process goes away, and a pid file that tools/test.sh sweeps.
/// </summary>
public static class ChildProcesses
{
    /// <summary>Where pid files go; tools/test.sh kills whatever is listed there after the run.</summary>
    public static readonly string PidDirectory = Path.Combine(Path.GetTempPath(), "switchboard-tests", "pids");

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a command to completion, failing with its output when it fails.</summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cancel.Token);
        var output = await stdout + await stderr;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', info.ArgumentList)} exited with {process.ExitCode}:\n{output}");
        }

        return output;
    }

    /// <summary>Starts a long-running child with output to <paramref name="logFile"/>, guarded by a watchdog.</summary>
    public static Process Start(string fileName, IEnumerable<string> arguments, string logFile, IDictionary<string, string?>? environment = null)
    {
        // The shell redirects output to the log file, then becomes the server (exec): its pid is the server's.
        var info = new ProcessStartInfo("/bin/bash") { UseShellExecute = false, RedirectStandardInput = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$SB_LOG\" 2>&1");
        info.ArgumentList.Add(fileName);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["SB_LOG"] = logFile;
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        Guard(process.Id);
        return process;
    }

    /// <summary>Kills <paramref name="pid"/> when this test process exits, however it exits.</summary>
    public static void Guard(int pid)
    {
        Directory.CreateDirectory(PidDirectory);
        File.WriteAllText(Path.Combine(PidDirectory, $"{pid}.pid"), pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var watchdog = new ProcessStartInfo("/bin/bash") { UseShellExecute = false };
        watchdog.ArgumentList.Add("-c");
        watchdog.ArgumentList.Add($"while kill -0 {Environment.ProcessId} 2>/dev/null && kill -0 {pid} 2>/dev/null; do sleep 1; done; kill -9 {pid} 2>/dev/null; rm -f '{PidDirectory}/{pid}.pid'");
        using var _ = Process.Start(watchdog);
    }

    public static string Tail(string logFile, int lines = 40)
    {
        if (!File.Exists(logFile))
        {
            return "(no log)";
        }

        var all = File.ReadAllLines(logFile);
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    /// <summary>The repository root (where Orleans.sln is).</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Orleans.sln not found above " + AppContext.BaseDirectory);
    }
}
