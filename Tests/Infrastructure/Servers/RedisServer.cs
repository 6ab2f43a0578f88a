using System.Diagnostics;

namespace Switchboard.Tests.Infrastructure.Servers;

/// <summary>A real redis-server on a free loopback port, data in a temp dir, gone with the fixture.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;

    private RedisServer(Process process, int port, string directory, string connectionString)
    {
        _process = process;
        Port = port;
        Directory = directory;
        ConnectionString = connectionString;
    }

    public int Port { get; }

    public string Directory { get; }

    /// <summary>The StackExchange.Redis configuration of this server (with <c>ssl=true</c> for a TLS server).</summary>
    public string ConnectionString { get; }

    public int ProcessId => _process.Id;

    public static Task<RedisServer> StartAsync() => StartAsync(tls: null);

    /// <summary>A server that speaks only TLS (<c>port 0</c>, <c>tls-port</c>), with <paramref name="tls"/>'s certificate; clients need none.</summary>
    public static Task<RedisServer> StartTlsAsync(HostCertificate tls) => StartAsync(tls);

    private static async Task<RedisServer> StartAsync(HostCertificate? tls)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("sb-redis-").FullName;
        var port = ChildProcesses.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var log = Path.Combine(directory, "redis.log");
        string[] listen = tls is null
            ? ["--port", port]
            : ["--port", "0", "--tls-port", port, "--tls-cert-file", tls.CertificatePath, "--tls-key-file", tls.KeyPath, "--tls-ca-cert-file", tls.CaPath, "--tls-auth-clients", "no"];
        string[] ping = tls is null ? ["-p", port, "ping"] : ["-p", port, "--tls", "--cacert", tls.CaPath, "ping"];
        var process = ChildProcesses.Start("redis-server", [.. listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory], log);
        var server = new RedisServer(process, int.Parse(port, System.Globalization.CultureInfo.InvariantCulture), directory,
            tls is null ? $"127.0.0.1:{port}" : $"127.0.0.1:{port},ssl=true,sslHost=localhost");
        await Wait.UntilAsync(async () =>
        {
            try
            {
                var answer = await ChildProcesses.RunAsync("redis-cli", ping, TimeSpan.FromSeconds(5));
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
