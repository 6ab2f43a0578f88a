using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>The process the drill kills: checked to be a Switchboard silo, and named as its welcome frames name it.</summary>
internal static class KillTarget
{
    private const string NameVariable = "Switchboard__Silo__Name=";

    /// <summary>The node name of silo process <paramref name="pid"/>: <paramref name="given"/>, checked against its environment when readable.</summary>
    public static string Resolve(int pid, string? given)
    {
        var commandLine = Read(pid, "cmdline")?.Replace('\0', ' ').Trim()
            ?? throw new UsageException($"--kill-pid {pid}: no such process");

        // A guard for CI scripts: a wrong column of `cluster.sh status` must not SIGKILL MariaDB or the gateway.
        if (!commandLine.Contains("Switchboard.Silo", StringComparison.Ordinal))
        {
            throw new UsageException($"--kill-pid {pid}: refusing to SIGKILL '{commandLine}': not a Switchboard silo");
        }

        // cluster.sh and the systemd units give a silo its name through the environment (switchboard-run exports it).
        var named = Read(pid, "environ")?.Split('\0').FirstOrDefault(v => v.StartsWith(NameVariable, StringComparison.Ordinal))?[NameVariable.Length..];
        if (given is not null && named is not null && given != named)
        {
            throw new UsageException($"--kill-node {given}: pid {pid} is {named} (its {NameVariable[..^1]})");
        }

        return given ?? named
            ?? throw new UsageException($"--kill-pid {pid}: its node name is not in its environment ({NameVariable[..^1]}): give --kill-node");
    }

    /// <summary>False once the process is gone, or a zombie its parent has not reaped yet.</summary>
    public static bool IsAlive(int pid)
    {
        var stat = Read(pid, "stat");
        if (stat is null)
        {
            return false;
        }

        // The state follows the command name, which may hold spaces and parentheses: it is after the last ')'.
        var close = stat.LastIndexOf(')');
        return close < 0 || close + 2 >= stat.Length || stat[close + 2] is not ('Z' or 'X');
    }

    private static string? Read(int pid, string file)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/{file}");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
