using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Switchboard.Bench.Load;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;

namespace Switchboard.Bench;

/// <summary>
/// What a durable ack costs the database alone, with no silo in the path: one-message appends through the product's
/// own <see cref="MariaDbMessageLog"/> at an open-loop rate (W1's 1,000/s by default), and MariaDB's CPU per message
/// over the window. W1's server-CPU bar is shared by every server process; this is the part no change to the silos
/// can remove. A commit delay shows what batching would buy in CPU and cost in latency.
/// </summary>
internal static class CommitFloorBenchmark
{
    private const int Conversations = 1_000;

    public static async Task<int> RunAsync(string connectionString, int mariadbPid, double rate, int seconds, int writers, int delayMicros)
    {
        if (ProcessMonitor.CpuSeconds(mariadbPid.ToString(CultureInfo.InvariantCulture)) is null)
        {
            Console.Error.WriteLine($"commit-floor: no process {mariadbPid} to measure");
            return 2;
        }

        Console.WriteLine($"commit-floor: {rate:F0} appends/s for {seconds} s after 5 s unrecorded, {writers} writers, commit delay {delayMicros} µs, mariadbd pid {mariadbPid}");
        var options = Options.Create(new MessageLogOptions
        {
            ConnectionString = connectionString,
            Writers = writers,
            CommitDelay = TimeSpan.FromMicroseconds(delayMicros),
        });
        await using var log = new MariaDbMessageLog(options, NullLogger<MariaDbMessageLog>.Instance);

        var run = Guid.NewGuid().ToString("N")[..8];
        var body = Encoding.UTF8.GetBytes($"\"{new string('x', 64)}\"");
        var conversations = Enumerable.Range(0, Conversations).Select(c => ConversationId.ForGroup(new GroupId($"floor-{run}-{c}"))).ToArray();
        var sender = new UserId($"floor-{run}");
        var warmup = (long)(rate * 5);
        var total = warmup + (long)(rate * seconds);
        var latencies = new double[total - warmup];
        var pending = new List<Task>((int)total);

        var period = Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp();
        double? dbStart = null;
        double selfStart = 0;
        long commitsStart = 0;
        long k = 0;
        while (k < total)
        {
            var due = Math.Min(total, (long)((Stopwatch.GetTimestamp() - start) / period) + 1);
            for (; k < due; k++)
            {
                if (k == warmup)
                {
                    dbStart = ProcessMonitor.CpuSeconds(mariadbPid.ToString(CultureInfo.InvariantCulture));
                    selfStart = ProcessMonitor.CpuSeconds("self") ?? 0;
                    commitsStart = log.Commits;
                }

                var conversation = conversations[k % Conversations];
                var message = new StoredMessage(conversation, (k / Conversations) + 1, sender, Recipient.ForGroup(conversation.Group), $"{run}-{k}", body, DateTimeOffset.UtcNow);
                pending.Add(AppendAsync(log, message, k >= warmup ? k - warmup : -1, latencies));
            }

            // Until the next append is due (the OS timer gives about a millisecond at least); late wake-ups send what
            // came due in a burst, as the load generator does.
            var wait = ((start + (long)(k * period)) - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
            if (k < total)
            {
                Thread.Sleep((int)Math.Clamp(wait, 1, 50));
            }
        }

        await Task.WhenAll(pending);
        var dbEnd = ProcessMonitor.CpuSeconds(mariadbPid.ToString(CultureInfo.InvariantCulture));
        var selfEnd = ProcessMonitor.CpuSeconds("self") ?? 0;
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds - 5;
        var measured = latencies.Length;
        var commits = log.Commits - commitsStart;
        Array.Sort(latencies);

        Console.WriteLine($"  {measured} appends in the window, {commits} commits, {measured / (double)commits:F2} messages per commit");
        Console.WriteLine($"  append → durable ms: p50 {ClusterPathBenchmark.Percentile(latencies, 50):F2}  p95 {ClusterPathBenchmark.Percentile(latencies, 95):F2}  p99 {ClusterPathBenchmark.Percentile(latencies, 99):F2}  max {latencies[^1]:F2}");
        Console.WriteLine($"  mariadbd: {(dbEnd - dbStart) / elapsed:F3} cores, {(dbEnd - dbStart) * 1e6 / measured:F0} µs of CPU per message");
        Console.WriteLine($"  this process (the log's client side and the pacing): {(selfEnd - selfStart) * 1e6 / measured:F0} µs per message");
        return 0;
    }

    private static async Task AppendAsync(MariaDbMessageLog log, StoredMessage message, long slot, double[] latencies)
    {
        var started = Stopwatch.GetTimestamp();
        await log.AppendAsync(message);
        if (slot >= 0)
        {
            latencies[slot] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
    }
}
