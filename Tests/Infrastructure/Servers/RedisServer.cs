using System.Diagnostics;

namespace Switchboard.Tests.Infrastructure.Servers;

/// <summary>A real redis-server on a free loopback port, data in a temp dir, gone with the fixture.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, int port, string directory)
    {
        _process = process;
        Port = port;
        Directory = directory;
    }

    public int Port { get; }

    public string Directory { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public int ProcessId => _process.Id;

    public static async Task<RedisServer> StartAsync()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("sb-redis-").FullName;
        var port = ChildProcesses.FreePort();
        var log = Path.Combine(directory, "redis.log");
        var process = ChildProcesses.Start("redis-server",
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory],
            log);
        var server = new RedisServer(process, port, directory);
        await Wait.UntilAsync(async () =>
        {
            try
            {
                var answer = await ChildProcesses.RunAsync("redis-cli", ["-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "ping"], TimeSpan.FromSeconds(5));
                return answer.Contains("PONG", StringComparison.Ordinal);
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }, $"redis-server on {port} answers (log: {ChildProcesses.Tail(log)})", TimeSpan.FromSeconds(20));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        TryDelete(Directory);
    }

    internal static void TryDelete(string directory)
    {
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A server still flushing: the temp dir is left for the OS to clean.
        }
    }
}
