using System.Diagnostics;
using System.Globalization;

namespace Switchboard.Tests.Infrastructure.Servers;

/// <summary>
/// A silo host as its own process (the built Switchboard.Silo.dll), so a test can kill it with SIGKILL
/// the way a machine dies, or stop it with SIGTERM the way an operator does.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;

    private SiloProcess(Process process, string name, int httpPort, string logFile)
    {
        _process = process;
        Name = name;
        HttpPort = httpPort;
        LogFile = logFile;
    }

    public string Name { get; }

    public int HttpPort { get; }

    public string LogFile { get; }

    public int ProcessId => _process.Id;

    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}/");

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts a silo of the durable cluster and waits until it is ready (60 s unless <paramref name="readyTimeout"/>).
    /// A free port can be taken by another test between being found and being bound: a silo that exits because its
    /// address is in use is started again on new ports (twice at most).
    /// </summary>
    public static async Task<SiloProcess> StartAsync(string name, string clusterId, string redis, string mysql, string logDirectory, IDictionary<string, string?>? extra = null, TimeSpan? readyTimeout = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var silo = Launch(name, clusterId, redis, mysql, logDirectory, extra);
            try
            {
                await silo.WaitUntilReadyAsync(readyTimeout);
                return silo;
            }
            catch (InvalidOperationException) when (attempt < 3 && silo.HasExited && File.ReadAllText(silo.LogFile).Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await silo.DisposeAsync();
            }
            catch
            {
                await silo.DisposeAsync();
                throw;
            }
        }
    }

    private static SiloProcess Launch(string name, string clusterId, string redis, string mysql, string logDirectory, IDictionary<string, string?>? extra)
    {
        var dll = SiloDll();
        var http = ChildProcesses.FreePort();
        var log = Path.Combine(logDirectory, $"{name}-{http}.log");
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = SiloHostFactory.TestEnvironment,
            ["ConnectionStrings__Redis"] = redis,
            ["ConnectionStrings__MySql"] = mysql,
            ["Switchboard__Auth__SigningKey"] = SiloHostFactory.SigningKey,
            ["Switchboard__Auth__DevTokens"] = "true",
            ["Switchboard__Silo__ClusterId"] = clusterId,
            ["Switchboard__Silo__Name"] = name,
            ["Switchboard__Silo__SiloPort"] = ChildProcesses.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Switchboard__Silo__GatewayPort"] = ChildProcesses.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Switchboard__Silo__Dashboard"] = "false",
            // The warm-up has its own tests (WarmUpDurableTests); elsewhere it only lengthens every silo's start.
            ["Switchboard__WarmUp__Enabled"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Orleans"] = "Warning",
            ["Logging__LogLevel__Switchboard"] = "Information",
            ["DOTNET_gcServer"] = "0",
            // Unoptimized code first, as .NET's default: a silo that serves a test for seconds starts sooner than with
            // the silo's own setting (everything optimized at first call, for the first users of a long-lived silo).
            ["DOTNET_TC_QuickJit"] = "1",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }

        var process = ChildProcesses.Start("dotnet", [dll, "--urls", $"http://127.0.0.1:{http}"], log, environment);
        return new SiloProcess(process, name, http, log);
    }

    public async Task WaitUntilReadyAsync(TimeSpan? timeout = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Wait.UntilAsync(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}:\n{ChildProcesses.Tail(LogFile)}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "/health/ready"));
                return response.IsSuccessStatusCode;
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, $"{Name} is ready (log: {LogFile})", timeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>SIGKILL: the process dies at once, with no chance to say goodbye to the cluster.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, then waits for a graceful exit.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (_process.HasExited)
        {
            return;
        }

        await ChildProcesses.RunAsync("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cancel.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static string SiloDll()
    {
        // The configuration this test assembly was built in (bin/<Configuration>/net10.0/).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var dll = Path.Combine(ChildProcesses.RepositoryRoot(), "Silo", "bin", configuration, "net10.0", "Switchboard.Silo.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the Silo project first.", dll);
    }
}
