using Switchboard.Bench;
using Switchboard.Bench.Drill;
using Switchboard.Bench.Load;

// Switchboard's benchmark. Workloads:
//   cluster-path [pairs] [messages-per-pair] [concurrency]   the grain path across two in-process silos
//   log-append CONNECTION_STRING [conversations] [messages] [writers] [max-batch]   MariaDB group commit
//   commit-floor CONNECTION_STRING MARIADBD_PID [rate] [seconds] [writers] [delay-us]   MariaDB's CPU per durable ack, no silo
//   w1 | w2 | w3 | w4 [options]   the workloads of docs/performance.md against a running cluster, over the public protocol
//   summary FILE.json...          medians with min–max over several w* reports
//   idle-drill URL [minutes] [--insecure]   a silent socket must still answer after that long (default 10 min)
//   failover-drill URL --kill-pid PID [options]   SIGKILL a silo under traffic through the gateway: nothing acked lost or doubled
//   fault-drill URL --kind KIND [options]   rolling restart, Redis or MariaDB down, the whole cluster restarted, under traffic
//   malformed-drill [options]     malformed frames of every kind from many sockets: silos stay up, a control pair loses nothing
//   slow-reader-drill [options]   a group member stops reading: it is closed with 4008, the others' latency holds
//   reconnect-storm [options]     N sockets dropped at once reconnect with backoff and full jitter, resume: nothing acked lost
//   group-fill URL [members] [concurrency]   the time of each 1,000 members added to one group over REST
//   tls-floor [sockets] [--plain] what an idle WebSocket costs a bare Kestrel server, with TLS and without
var workload = args.Length > 0 ? args[0] : "cluster-path";
int Arg(int index, int fallback) => args.Length > index && int.TryParse(args[index], out var value) ? value : fallback;

return workload switch
{
    "cluster-path" => await ClusterPathBenchmark.RunAsync(pairs: Arg(1, 100), messagesPerPair: Arg(2, 100), concurrency: Arg(3, 16)),
    "log-append" when args.Length > 1 => await LogAppendBenchmark.RunAsync(args[1], conversations: Arg(2, 200), messagesPerConversation: Arg(3, 50), writers: Arg(4, 2), maxBatch: Arg(5, 256)),
    "commit-floor" when args.Length > 2 => await CommitFloorBenchmark.RunAsync(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), rate: Arg(3, 1000), seconds: Arg(4, 20), writers: Arg(5, 2), delayMicros: Arg(6, 0)),
    "w1" or "w2" or "w3" or "w4" or "w5" => await LoadCommand.RunAsync(workload, args[1..]),
    "summary" => ReportSummary.Run(args[1..]),
    "idle-drill" when args.Length > 1 => await IdleDrill.RunAsync(new Uri(args[1]), TimeSpan.FromMinutes(args.Length > 2 && double.TryParse(args[2], System.Globalization.CultureInfo.InvariantCulture, out var minutes) ? minutes : 10), args.Contains("--insecure")),
    "failover-drill" => await FailoverDrill.RunAsync(args[1..]),
    "fault-drill" => await FailoverDrill.RunAsync(args[1..], fault: true),
    "malformed-drill" => await MalformedDrill.RunAsync(args[1..]),
    "slow-reader-drill" => await SlowReaderDrill.RunAsync(args[1..]),
    "reconnect-storm" => await ReconnectStorm.RunAsync(args[1..]),
    "group-fill" => await GroupFillBenchmark.RunAsync(args[1..]),
    "tls-floor" => await TlsFloorBenchmark.RunAsync(args[1..]),
    "tls-floor-clients" when args.Length > 2 => await TlsFloorBenchmark.RunClientsAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project tools/Bench -- cluster-path [pairs=100] [messages-per-pair=100] [concurrency=16]");
    Console.Error.WriteLine("       dotnet run -c Release --project tools/Bench -- log-append CONNECTION_STRING [conversations=200] [messages=50] [writers=2] [max-batch=256]");
    Console.Error.WriteLine("       dotnet run -c Release --project tools/Bench -- commit-floor CONNECTION_STRING MARIADBD_PID [rate=1000] [seconds=20] [writers=2] [delay-us=0]");
    Console.Error.WriteLine("       dotnet run -c Release --project tools/Bench -- w1|w2|w3|w4 [options]   (tools/Bench/run.sh runs them all)");
    Console.Error.WriteLine("       dotnet run -c Release --project tools/Bench -- idle-drill https://127.0.0.1:8443 [minutes=10] [--insecure]");
    Console.Error.WriteLine("       dotnet run -c Release --project tools/Bench -- failover-drill https://127.0.0.1:8443 --kill-pid PID [options]");
    Console.Error.WriteLine(LoadOptions.Usage);
    Console.Error.WriteLine(FailoverOptions.Usage);
    Console.Error.WriteLine(FailoverOptions.FaultUsage);
    Console.Error.WriteLine(MalformedDrill.Usage);
    Console.Error.WriteLine(SlowReaderDrill.Usage);
    Console.Error.WriteLine(ReconnectStorm.Usage);
    Console.Error.WriteLine(GroupFillBenchmark.Usage);
    Console.Error.WriteLine(TlsFloorBenchmark.Usage);
    return 2;
}
