namespace Switchboard.Bench.Load;

/// <summary>
/// W1's and W3's traffic: client k mod N sends (so each client sends rate / N per second, evenly spread) to a
/// uniformly random client on another node than its own (the node its welcome named).
/// </summary>
internal sealed class CrossNodeTraffic
{
    private readonly BenchClient[] _clients;
    private readonly int[][] _others;
    private readonly Random _random;

    private CrossNodeTraffic(BenchClient[] clients, int[][] others, int seed)
    {
        _clients = clients;
        _others = others;
        _random = new Random(seed);
    }

    public static async Task<CrossNodeTraffic> ConnectAsync(WorkloadContext context)
    {
        var clients = context.Engine.Clients;
        await context.ConnectAsync(0, clients.Length);
        var nodes = context.Engine.Nodes.Count;
        if (nodes < 2)
        {
            throw new InvalidOperationException(
                $"every client landed on one node ({context.Engine.Nodes[0]}): cross-node traffic needs two (give both silos as --targets)");
        }

        var others = new int[nodes][];
        for (var node = 0; node < nodes; node++)
        {
            others[node] = [.. clients.Where(c => c.Node != node).Select(c => c.Index)];
        }

        return new CrossNodeTraffic(clients, others, context.Options.Seed);
    }

    /// <summary>Scheduler thread only (the random generator is not shared).</summary>
    public void Next(long k, out BenchClient sender, out int target, out byte[] to)
    {
        sender = _clients[k % _clients.Length];
        var pool = _others[sender.Node];
        target = pool[_random.Next(pool.Length)];
        to = _clients[target].AddressUtf8;
    }
}
