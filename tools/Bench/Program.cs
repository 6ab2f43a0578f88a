using Switchboard.Bench;

// Switchboard's benchmark. Workloads:
//   cluster-path [pairs] [messages-per-pair] [concurrency]   the grain path across two in-process silos
var workload = args.Length > 0 ? args[0] : "cluster-path";
int Arg(int index, int fallback) => args.Length > index && int.TryParse(args[index], out var value) ? value : fallback;

return workload switch
{
    "cluster-path" => await ClusterPathBenchmark.RunAsync(pairs: Arg(1, 100), messagesPerPair: Arg(2, 100), concurrency: Arg(3, 16)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project tools/Bench -- cluster-path [pairs=100] [messages-per-pair=100] [concurrency=16]");
    return 2;
}
