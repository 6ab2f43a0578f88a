using System.Globalization;

namespace Switchboard.Bench.Load;

/// <summary>Thrown for a bad command line; the message says what was wrong.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The settings of one socket workload run. Defaults are docs/performance.md's; every count and duration can be
/// overridden so a run can be validated small (<c>--clients 50 --duration 5 --warmup 2</c>).
/// </summary>
internal sealed class LoadOptions
{
    /// <summary>W3's ladder: 1k to 10k by 1k, 12k to 20k by 2k, then 24k, 28k, 32k, 40k, 48k msg/s.</summary>
    public static readonly IReadOnlyList<double> DefaultSteps =
        [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000, 14000, 16000, 18000, 20000, 24000, 28000, 32000, 40000, 48000];

    public const string Usage = """
        socket workloads (docs/performance.md), speaking the public protocol:
          w1 | w2 | w3 | w4 [options]
            --targets URL[,URL...]   ws://silo,... (client i to target i mod k) or one wss://gateway
                                     (default: the silos listed by --discover, else ws://127.0.0.1:5001,ws://127.0.0.1:5002)
            --insecure               accept the gateway's self-signed certificate
            --clients N              W1/W3 1000, W4 10000
            --duration S             measured window of W1/W2 (20)
            --warmup S               unrecorded traffic before each measured window (5)
            --grace S                how long after a send window deliveries still count (5)
            --max-p99 MS             W1/W2: a p99 above MS is a problem too (run.sh's warm-up waits for a settled cluster)
            --rate R                 W1: messages per second per client (1)
            --groups G --members M   W2: 10 groups of 100
            --group-rate R           W2: messages per second per group sender (10)
            --steps R1,R2,...        W3 offered rates in msg/s (1000 ... 48000)
            --step-duration S        W3 measured window per step (10)
            --p99-limit-ms MS        W3 pass mark for p99 (100)
            --min-delivered F        W3 pass mark for the delivered fraction (0.95)
            --chunks N --settle S    W4: connect in 4 chunks, settle 5 s before each RSS sample
            --connect-parallel N     connections opened at once (32)
            --server-pids n=pid,...  server processes to measure (CPU, RSS)
            --discover               measure what `deploy/local/cluster.sh status` lists (and a gateway line)
            --cluster-script PATH    the script --discover runs (default: found from the working directory)
            --out PATH.json          write the report as JSON
            --label TEXT             a note stored in the report
            --seed N                 recipient choice (default: a fresh one per run, shown in the report)
        summary FILE.json...         medians with min–max of each figure over several reports
        """;

    public required string Workload { get; init; }

    public List<Uri> Targets { get; } = [];

    public bool Insecure { get; private set; }

    public int? Clients { get; private set; }

    public double Duration { get; private set; } = 20;

    public double Warmup { get; private set; } = 5;

    public double Grace { get; private set; } = 5;

    /// <summary>W1/W2: when set, a window whose p99 is above it (milliseconds) is reported as a problem.</summary>
    public double? MaxP99 { get; private set; }

    public double Rate { get; private set; } = 1;

    public int Groups { get; private set; } = 10;

    public int Members { get; private set; } = 100;

    public double GroupRate { get; private set; } = 10;

    public IReadOnlyList<double> Steps { get; private set; } = DefaultSteps;

    public double StepDuration { get; private set; } = 10;

    public double P99LimitMs { get; private set; } = 100;

    public double MinDelivered { get; private set; } = 0.95;

    public int Chunks { get; private set; } = 4;

    public double Settle { get; private set; } = 5;

    public int ConnectParallel { get; private set; } = 32;

    public List<(string Name, int Pid)> ServerPids { get; } = [];

    public bool Discover { get; private set; }

    public string? ClusterScript { get; private set; }

    public string? Out { get; private set; }

    public string? Label { get; private set; }

    // A fresh seed per run unless one is given: W1's random pairs should reach mostly new conversations, as
    // docs/performance.md's traffic does, not the still-active ones of the previous run.
    public int Seed { get; private set; } = Random.Shared.Next(1, int.MaxValue);

    public static LoadOptions Parse(string workload, IReadOnlyList<string> args)
    {
        var options = new LoadOptions { Workload = workload };
        var option = new OptionCursor(args, 0);
        while (option.MoveNext())
        {
            var name = option.Name;
            switch (name)
            {
                case "--targets":
                    foreach (var target in option.Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        options.Targets.Add(ParseTarget(target));
                    }

                    break;
                case "--insecure":
                    options.Insecure = true;
                    break;
                case "--clients":
                    options.Clients = PositiveInt(name, option.Value());
                    break;
                case "--duration":
                    options.Duration = Number(name, option.Value());
                    break;
                case "--warmup":
                    options.Warmup = Number(name, option.Value(), allowZero: true);
                    break;
                case "--grace":
                    options.Grace = Number(name, option.Value(), allowZero: true);
                    break;
                case "--max-p99":
                    options.MaxP99 = Number(name, option.Value());
                    break;
                case "--rate":
                    options.Rate = Number(name, option.Value());
                    break;
                case "--groups":
                    options.Groups = PositiveInt(name, option.Value());
                    break;
                case "--members":
                    options.Members = PositiveInt(name, option.Value());
                    if (options.Members < 2)
                    {
                        throw new UsageException("--members must be at least 2 (a sender and a recipient)");
                    }

                    break;
                case "--group-rate":
                    options.GroupRate = Number(name, option.Value());
                    break;
                case "--steps":
                    options.Steps = [.. option.Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => Number(name, s))];
                    break;
                case "--step-duration":
                    options.StepDuration = Number(name, option.Value());
                    break;
                case "--p99-limit-ms":
                    options.P99LimitMs = Number(name, option.Value());
                    break;
                case "--min-delivered":
                    options.MinDelivered = Number(name, option.Value(), allowZero: true);
                    break;
                case "--chunks":
                    options.Chunks = PositiveInt(name, option.Value());
                    break;
                case "--settle":
                    options.Settle = Number(name, option.Value(), allowZero: true);
                    break;
                case "--connect-parallel":
                    options.ConnectParallel = PositiveInt(name, option.Value());
                    break;
                case "--server-pids":
                    foreach (var pair in option.Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        var parts = pair.Split('=', 2);
                        if (parts.Length != 2 || parts[0].Length == 0 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                        {
                            throw new UsageException($"--server-pids expects name=pid,..., not '{pair}'");
                        }

                        options.ServerPids.Add((parts[0], pid));
                    }

                    break;
                case "--discover":
                    options.Discover = true;
                    break;
                case "--cluster-script":
                    options.ClusterScript = option.Value();
                    break;
                case "--out":
                    options.Out = option.Value();
                    break;
                case "--label":
                    options.Label = option.Value();
                    break;
                case "--seed":
                    options.Seed = Integer(name, option.Value());
                    break;
                default:
                    throw new UsageException($"unknown option '{name}'");
            }
        }

        return options;
    }

    /// <summary>A ws:// or wss:// base URL (http:// and https:// are accepted and mapped).</summary>
    public static Uri ParseTarget(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new UsageException($"'{text}' is not a URL");
        }

        var scheme = uri.Scheme switch
        {
            "ws" or "http" => "ws",
            "wss" or "https" => "wss",
            _ => throw new UsageException($"'{text}': expected ws://, wss://, http:// or https://"),
        };
        return new UriBuilder(uri) { Scheme = scheme, Port = uri.Port, Path = string.Empty }.Uri;
    }

    internal static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new UsageException($"{name} expects a positive integer, not '{value}'");

    internal static double Number(string name, string value, bool allowZero = false) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && (d > 0 || (allowZero && d == 0)) && double.IsFinite(d)
            ? d
            : throw new UsageException($"{name} expects a {(allowZero ? "non-negative" : "positive")} number, not '{value}'");

    internal static int Integer(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new UsageException($"{name} expects an integer, not '{value}'");
}
