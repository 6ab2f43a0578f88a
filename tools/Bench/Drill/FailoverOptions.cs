using System.Globalization;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>The settings of a failover drill (option names as <see cref="LoadOptions"/>'s where they mean the same).</summary>
internal sealed class FailoverOptions
{
    public const string Usage = """
        failover drill: SIGKILL one silo under traffic through the gateway; nothing acked may be lost or doubled:
          failover-drill URL --kill-pid PID [options]
            URL                  the gateway, https://127.0.0.1:8443 (or wss://)
            --kill-pid PID       the silo process to SIGKILL (`deploy/local/cluster.sh status` prints `silo-2 PID URL`)
            --kill-node NAME     its node name as welcome frames give it (default: the process's Switchboard__Silo__Name,
                                 which cluster.sh and the systemd units set)
            --insecure           accept the gateway's self-signed certificate
            --clients N          clients, one socket each, fresh user ids per run (20)
            --rate R             direct messages per second in all, open loop, random pairs (40)
            --before S           seconds of traffic before the kill (5)
            --after S            seconds of traffic after the kill (20)
            --settle S           at most this long after the traffic for acks, reconnects and deliveries (15)
            --ack-timeout S      a send unanswered this long is written again with its id (5)
            --seed N             the pairs (default: a fresh one per run, shown)
            --out PATH.json      write the figures as JSON
            --control NAME       a negative control, to show the checks bite (it should FAIL): no-resume (clients
                                 never resume: what the kill dropped live stays lost) or new-id-retries (a retry
                                 gets a new request id, so the server stores it again: duplicates)
        exit code: 0 when nothing acked was lost, nothing doubled, no gap, every send acked and every client
        connected at the end; 1 otherwise (the reason is printed); 2 for a bad command line.
        """;

    public const string FaultUsage = """
        fault drill: a fault of the local cluster under traffic through the gateway; nothing acked may be lost, no seq reused:
          fault-drill URL --kind KIND [options]
            --kind KIND          rolling-restart  SIGTERM silo-1 (it drains), start it, wait until the gateway routes to it;
                                                  then the same for silo-2
                                 redis-outage     stop Redis (the membership store) for --down s (60), then start it
                                 mariadb-outage   SIGKILL mariadbd (group commits in flight), --down s (30) later start it;
                                                  no send may be acked while it is down
                                 cluster-restart  `cluster.sh down` (gateway, silos, Redis, MariaDB), then `cluster.sh up`
            --down S             how long Redis or MariaDB stays down (60, 30; 0 restarts MariaDB at once)
            --data-dir DIR       the cluster's data folder, for its pid files ($SB_DATA_DIR or deploy/local/.data)
            --cluster-script F   what stops and starts processes (deploy/local/cluster.sh; run with this environment, so the
                                 same SB_* ports, and SB_SKIP_BUILD=1)
            --before S           seconds of traffic before the fault (5); traffic goes on through the fault and --after s
                                 (10) after it; the other options are failover-drill's (--insecure, --clients, --rate,
                                 --settle, --ack-timeout, --seed, --out)
        exit code: 0 when nothing acked was lost or doubled, no seq names two messages (at the clients and in history), no
        gap, every send acked, every client connected at the end, and the fault's own checks held; 1 otherwise; 2 usage.
        """;

    public required Uri Target { get; init; }

    /// <summary>What the drill does to the cluster: a SIGKILL of one silo (failover-drill), or a fault of fault-drill.</summary>
    public FaultKind Kind { get; private set; } = FaultKind.Kill;

    /// <summary>Seconds Redis or MariaDB stays down; null for the kind's default.</summary>
    public double? Down { get; private set; }

    public string DataDir { get; private set; } = DrillKit.DefaultDataDir;

    public string ClusterScript { get; private set; } = "deploy/local/cluster.sh";

    public int KillPid { get; private set; }

    public string? KillNode { get; private set; }

    public bool Insecure { get; private set; }

    public int Clients { get; private set; } = 20;

    public double Rate { get; private set; } = 40;

    public double Before { get; private set; } = 5;

    public double After { get; private set; } = 20;

    public double Settle { get; private set; } = 15;

    public double AckTimeout { get; private set; } = 5;

    // A fresh seed per run unless one is given (as LoadOptions), shown in the report so a run's pairs can be repeated.
    public int Seed { get; private set; } = Random.Shared.Next(1, int.MaxValue);

    public string? Out { get; private set; }

    /// <summary>null, <c>no-resume</c> or <c>new-id-retries</c>: a deliberately careless client the drill must fail.</summary>
    public string? Control { get; private set; }

    public bool NoResume => Control == "no-resume";

    public bool NewIdRetries => Control == "new-id-retries";

    /// <summary>Parses failover-drill's arguments, or with <paramref name="fault"/> fault-drill's.</summary>
    public static FailoverOptions Parse(IReadOnlyList<string> args, bool fault = false)
    {
        if (args.Count == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            throw new UsageException("the gateway's URL comes first");
        }

        var options = new FailoverOptions { Target = LoadOptions.ParseTarget(args[0]) };
        if (fault)
        {
            options.After = 10;
        }

        var option = new OptionCursor(args, 1);
        while (option.MoveNext())
        {
            var name = option.Name;
            switch (name)
            {
                case "--kill-pid":
                    options.KillPid = LoadOptions.PositiveInt(name, option.Value());
                    break;
                case "--kill-node":
                    options.KillNode = option.Value();
                    break;
                case "--insecure":
                    options.Insecure = true;
                    break;
                case "--clients":
                    options.Clients = LoadOptions.PositiveInt(name, option.Value());
                    if (options.Clients < 2)
                    {
                        throw new UsageException("--clients must be at least 2 (a sender and a recipient)");
                    }

                    break;
                case "--rate":
                    options.Rate = LoadOptions.Number(name, option.Value());
                    break;
                case "--before":
                    options.Before = LoadOptions.Number(name, option.Value());
                    break;
                case "--after":
                    options.After = LoadOptions.Number(name, option.Value());
                    break;
                case "--settle":
                    options.Settle = LoadOptions.Number(name, option.Value());
                    break;
                case "--ack-timeout":
                    options.AckTimeout = LoadOptions.Number(name, option.Value());
                    break;
                case "--seed":
                    options.Seed = LoadOptions.Integer(name, option.Value());
                    break;
                case "--out":
                    options.Out = option.Value();
                    break;
                case "--control":
                    options.Control = option.Value() is "no-resume" or "new-id-retries" ? option.Last : throw new UsageException($"--control: no-resume or new-id-retries, not '{option.Last}'");
                    break;
                case "--kind" when fault:
                    options.Kind = option.Value() switch
                    {
                        "rolling-restart" => FaultKind.RollingRestart,
                        "redis-outage" => FaultKind.RedisOutage,
                        "mariadb-outage" => FaultKind.MariaDbOutage,
                        "cluster-restart" => FaultKind.ClusterRestart,
                        _ => throw new UsageException($"--kind: rolling-restart, redis-outage, mariadb-outage or cluster-restart, not '{option.Last}'"),
                    };
                    break;
                case "--down" when fault:
                    options.Down = LoadOptions.Number(name, option.Value(), allowZero: true);
                    break;
                case "--data-dir" when fault:
                    options.DataDir = option.Value();
                    break;
                case "--cluster-script" when fault:
                    options.ClusterScript = option.Value();
                    break;
                default:
                    throw new UsageException($"unknown option '{name}'");
            }
        }

        if (fault)
        {
            return options.Kind != FaultKind.Kill ? options : throw new UsageException("--kind is required");
        }

        return options.KillPid > 0 ? options : throw new UsageException("--kill-pid is required: the pid of the silo to kill");
    }
}

/// <summary>What a drill does to the cluster while its clients send.</summary>
internal enum FaultKind
{
    Kill,
    RollingRestart,
    RedisOutage,
    MariaDbOutage,
    ClusterRestart,
}
