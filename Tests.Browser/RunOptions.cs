namespace Switchboard.Tests.Browser;

/// <summary>Where the cluster is: the gateway URL (first argument or SB_GATEWAY_URL) and the cluster's data folder (SB_DATA_DIR).</summary>
public sealed record RunOptions(Uri Gateway, string DataDir, string Chromium, string Screenshots)
{
    public static RunOptions Parse(string[] args)
    {
        var repo = FindRepo();
        var gateway = args.FirstOrDefault() ?? Environment.GetEnvironmentVariable("SB_GATEWAY_URL") ?? "https://127.0.0.1:8443";
        var dataDir = Environment.GetEnvironmentVariable("SB_DATA_DIR") is { Length: > 0 } d ? d : Path.Combine(repo, "deploy", "local", ".data");
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } c ? c : "/usr/bin/chromium";
        var screenshots = Environment.GetEnvironmentVariable("SB_SCREENSHOTS") is { Length: > 0 } s ? s : Path.Combine(repo, "artifacts", "ci", "screenshots");
        return new RunOptions(new Uri(gateway.TrimEnd('/') + "/"), dataDir, chromium, screenshots);
    }

    /// <summary>The pid of a silo of the local cluster, from the pid file cluster.sh writes.</summary>
    public int SiloPid(string node) => int.Parse(File.ReadAllText(Path.Combine(DataDir, "pids", node + ".pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
