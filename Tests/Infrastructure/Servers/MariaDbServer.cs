using System.Diagnostics;
using System.Globalization;

namespace Switchboard.Tests.Infrastructure.Servers;

/// <summary>
/// A real mariadbd on a free loopback port with its data in a temp dir, and the project's schema applied
/// by deploy/sql/apply.sh (the same script operators run).
/// </summary>
public sealed class MariaDbServer : IAsyncDisposable
{
    private readonly Process _process;

    private MariaDbServer(Process process, int port, string directory)
    {
        _process = process;
        Port = port;
        Directory = directory;
    }

    public int Port { get; }

    public string Directory { get; }

    public string Socket => Path.Combine(Directory, "mysqld.sock");

    public int ProcessId => _process.Id;

    /// <summary>Starts a server; <paramref name="extraArguments"/> go to mariadbd (e.g. its TLS settings).</summary>
    public static async Task<MariaDbServer> StartAsync(params string[] extraArguments)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("sb-mariadb-").FullName;
        var data = Path.Combine(directory, "data");
        await ChildProcesses.RunAsync("mariadb-install-db",
            ["--no-defaults", $"--datadir={data}", "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"]);
        var port = ChildProcesses.FreePort();
        var log = Path.Combine(directory, "mariadb.log");
        var process = ChildProcesses.Start("mariadbd",
            ["--no-defaults", $"--datadir={data}", $"--socket={Path.Combine(directory, "mysqld.sock")}", $"--pid-file={Path.Combine(directory, "mysqld.pid")}",
             $"--port={port.ToString(CultureInfo.InvariantCulture)}", "--bind-address=127.0.0.1", "--user=root", "--skip-log-bin",
             "--innodb-buffer-pool-size=64M", "--max-connections=500", .. extraArguments],
            log);
        var server = new MariaDbServer(process, port, directory);
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await ChildProcesses.RunAsync("mariadb-admin", ["--no-defaults", $"--socket={server.Socket}", "-uroot", "ping"], TimeSpan.FromSeconds(5));
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }, $"mariadbd on {port} answers (log: {ChildProcesses.Tail(log)})", TimeSpan.FromSeconds(30));

        // Connections over TCP as root need a password-less root@127.0.0.1 (install-db makes root@localhost only).
        await ChildProcesses.RunAsync("mariadb", ["--no-defaults", $"--socket={server.Socket}", "-uroot", "-e",
            "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"]);
        return server;
    }

    /// <summary>Creates <paramref name="database"/> with the project's schema and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string database)
    {
        var apply = Path.Combine(ChildProcesses.RepositoryRoot(), "deploy", "sql", "apply.sh");
        await ChildProcesses.RunAsync("bash", [apply, database, $"--socket={Socket}", "-uroot"]);
        return $"Server=127.0.0.1;Port={Port};Database={database};User ID=root;Pooling=true;Maximum Pool Size=50";
    }

    public async Task<string> QueryAsync(string database, string sql) =>
        await ChildProcesses.RunAsync("mariadb", ["--no-defaults", $"--socket={Socket}", "-uroot", "-N", "-B", database, "-e", sql]);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        RedisServer.TryDelete(Directory);
    }
}
