using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;

namespace Switchboard.Bench;

/// <summary>
/// The MariaDB message log alone: many conversations appending at once, each one message at a time as its
/// sequencer does. Shows what group commit buys: messages per second and per transaction, and the time
/// until an append is durable (what a sender waits for its ack).
/// </summary>
internal static class LogAppendBenchmark
{
    public static async Task<int> RunAsync(string connectionString, int conversations, int messagesPerConversation, int writers, int maxBatch)
    {
        Console.WriteLine($"log-append: {conversations} conversations × {messagesPerConversation} messages, {writers} writers, batches up to {maxBatch}");
        var options = Options.Create(new MessageLogOptions { ConnectionString = connectionString, Writers = writers, MaxBatch = maxBatch });
        await using var log = new MariaDbMessageLog(options, NullLogger<MariaDbMessageLog>.Instance);
        var run = Guid.NewGuid().ToString("N")[..8];
        var body = Encoding.UTF8.GetBytes($"\"{new string('x', 64)}\"");
        var latencies = new double[conversations * messagesPerConversation];
        var commitsBefore = log.Commits;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, conversations).Select(async c =>
        {
            var conversation = ConversationId.ForGroup(new GroupId($"bench-{run}-{c}"));
            var sender = new UserId($"bench-{run}-u{c}");
            for (var seq = 1; seq <= messagesPerConversation; seq++)
            {
                var t0 = Stopwatch.GetTimestamp();
                await log.AppendAsync(new StoredMessage(conversation, seq, sender, Recipient.ForGroup(conversation.Group), $"{run}-{c}-{seq}", body, DateTimeOffset.UtcNow));
                latencies[(c * messagesPerConversation) + seq - 1] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }));
        var elapsed = Stopwatch.GetElapsedTime(started);
        Array.Sort(latencies);
        var commits = log.Commits - commitsBefore;
        Console.WriteLine($"log-append: {latencies.Length} messages in {elapsed.TotalSeconds:F2} s = {latencies.Length / elapsed.TotalSeconds:F0} msg/s durable");
        Console.WriteLine($"  {commits} transactions, {latencies.Length / (double)commits:F1} messages per commit");
        Console.WriteLine($"  append → durable: p50 {ClusterPathBenchmark.Percentile(latencies, 50):F2} ms  p99 {ClusterPathBenchmark.Percentile(latencies, 99):F2} ms  max {latencies[^1]:F2} ms");
        return 0;
    }
}
