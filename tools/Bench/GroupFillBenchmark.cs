using System.Diagnostics;
using System.Globalization;
using Switchboard.Bench.Load;

namespace Switchboard.Bench;

/// <summary>
/// How the cost of adding a member grows with the group: a teacher adds N members to a fresh group over REST
/// (PUT /api/groups/{id}/members/{user}, a few at a time), and the time of each block of 1,000 is printed. Flat
/// blocks mean a join costs the same at 10,000 members as at 100; rising ones, that each join rewrites the group.
/// The REST limit per user (Switchboard:Rest, 50/s) must be raised on the silos for the figures to mean anything.
/// </summary>
internal static class GroupFillBenchmark
{
    public const string Usage = "       dotnet run -c Release --project tools/Bench -- group-fill URL [members=9999] [concurrency=4] [--insecure]";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 1 || !Uri.TryCreate(args[0], UriKind.Absolute, out var target))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var positional = args.Skip(1).Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var members = positional.Length > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 9_999;
        var concurrency = positional.Length > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 4;
        using var api = new DevApi(args.Contains("--insecure"));
        var run = Guid.NewGuid().ToString("N")[..8];
        var group = $"fill-{run}";
        var token = await api.TokenAsync(target, $"fill-teacher-{run}", "teacher", CancellationToken.None);
        await api.PutGroupAsync(target, token, group, "members", CancellationToken.None);
        Console.WriteLine($"group-fill: adding {members:N0} members to {group} at {target}, {concurrency} at a time");

        const int Block = 1_000;
        var next = 0;
        var failures = 0;
        var total = Stopwatch.StartNew();
        for (var start = 0; start < members; start += Block)
        {
            var end = Math.Min(members, start + Block);
            var block = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                int index;
                while ((index = Interlocked.Increment(ref next) - 1) < end)
                {
                    var status = await api.PutMemberAsync(target, token, group, $"fill-{run}-{index:00000}", "member", CancellationToken.None);
                    if (status != 200)
                    {
                        if (Interlocked.Increment(ref failures) <= 5)
                        {
                            Console.WriteLine($"group-fill: member {index}: HTTP {status}");
                        }
                    }
                }
            }));
            next = end;
            var seconds = block.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"group-fill: members {start + 1,6}-{end,6}: {seconds,6:F2} s, {(end - start) / seconds,7:F0} adds/s, {seconds * 1000 / (end - start),6:F2} ms each"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"group-fill: {members:N0} members in {total.Elapsed.TotalSeconds:F1} s, {failures} failed"));
        return failures == 0 ? 0 : 1;
    }
}
