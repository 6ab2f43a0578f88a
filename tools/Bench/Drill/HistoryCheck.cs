using System.Text;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>What the server's history says against what the clients were told (acks) and hold (deliveries).</summary>
internal sealed record HistoryVerdict(
    long Conversations,
    long Messages,
    long AckedMissing,
    long StoredTwice,
    long SeqMismatches,
    long NumberingGaps,
    long RefusedButStored,
    long StoredNeverAcked,
    long Foreign,
    long ReadFailures,
    IReadOnlyList<string> Examples)
{
    public long Failures => AckedMissing + StoredTwice + SeqMismatches + NumberingGaps + RefusedButStored + Foreign + ReadFailures;
}

/// <summary>
/// After the drill, reads every conversation's history through the gateway and checks, per conversation: seqs run 1, 2,
/// 3... without a gap; every message id is stored once; every acked message is there under the seq its ack gave; and
/// every (seq → message) any client holds (its acks and deliveries) is the one history has. A seq reused after a
/// restart, or a message stored twice, shows here even where no client happened to see both.
/// </summary>
internal static class HistoryCheck
{
    private const int PageSize = 1000;

    public static async Task<HistoryVerdict> RunAsync(DevApi api, Uri target, DrillLedger ledger, IReadOnlyList<DrillClient> clients, byte[] runTag, Lock gate, CancellationToken cancellationToken)
    {
        List<(int A, int B, string Conversation, string Token)> pairs;
        lock (gate)
        {
            pairs = [.. ledger.Messages.Where(m => m.State == SendState.Acked || m.DeliveredSeq != 0)
                .Select(m => (A: Math.Min(m.Sender, m.Target), B: Math.Max(m.Sender, m.Target))).Distinct()
                .Select(p => (p.A, p.B, ledger.ConversationOf(p.A, p.B), clients[p.A].Token ?? string.Empty))];
        }

        var histories = new Dictionary<string, List<(long Seq, string Id)>?>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(pairs, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (pair, ct) =>
        {
            var history = await ReadAsync(api, target, pair.Token, pair.Conversation, ct);
            lock (histories)
            {
                histories[pair.Conversation] = history;
            }
        });

        long messages = 0, ackedMissing = 0, storedTwice = 0, mismatches = 0, numberingGaps = 0, refusedStored = 0, neverAcked = 0, foreign = 0, failures = 0;
        var examples = new List<string>();
        void Example(string text)
        {
            if (examples.Count < 8)
            {
                examples.Add(text);
            }
        }

        lock (gate)
        {
            foreach (var (a, b, conversation, _) in pairs)
            {
                if (histories[conversation] is not { } history)
                {
                    failures++;
                    Example($"history of {conversation} could not be read");
                    continue;
                }

                messages += history.Count;
                var seqOf = new Dictionary<int, long>();
                var bySeq = new Dictionary<long, int>();
                var expected = 1L;
                foreach (var (seq, id) in history)
                {
                    if (seq != expected)
                    {
                        numberingGaps++;
                        Example($"history of {conversation}: seq {seq} follows {expected - 1}");
                    }

                    expected = seq + 1;
                    if (!SendFrame.TryParseId(Encoding.UTF8.GetBytes(id), runTag, out _, out var n) || n >= ledger.Messages.Count)
                    {
                        foreign++;
                        Example($"history of {conversation}: seq {seq} holds id {id}, which this run never sent");
                        continue;
                    }

                    bySeq[seq] = n;
                    if (!seqOf.TryAdd(n, seq))
                    {
                        storedTwice++;
                        Example($"history of {conversation}: message #{n} stored under seq {seqOf[n]} and again under {seq}");
                    }

                    var message = ledger.Messages[n];
                    if (message.State == SendState.Refused)
                    {
                        refusedStored++;
                        Example($"history of {conversation}: #{n} was refused ({message.RefusedCode}) yet stored as seq {seq}");
                    }
                    else if (message.State != SendState.Acked)
                    {
                        neverAcked++;
                    }
                }

                foreach (var message in ledger.Messages.Where(m => m.State == SendState.Acked && Math.Min(m.Sender, m.Target) == a && Math.Max(m.Sender, m.Target) == b))
                {
                    if (!seqOf.TryGetValue(message.N, out var stored))
                    {
                        ackedMissing++;
                        Example($"history of {conversation} lacks #{message.N}, acked as seq {message.Seq}");
                    }
                    else if (stored != message.Seq)
                    {
                        mismatches++;
                        Example($"history of {conversation} has #{message.N} as seq {stored}, its ack said {message.Seq}");
                    }
                }

                foreach (var (client, peer) in new[] { (a, b), (b, a) })
                {
                    foreach (var (seq, n) in ledger.HeldBy(client, peer))
                    {
                        if (!bySeq.TryGetValue(seq, out var stored) || stored != n)
                        {
                            mismatches++;
                            Example($"{ledger.User(client)} holds #{n} as seq {seq} of {conversation}; history has {(bySeq.ContainsKey(seq) ? $"#{stored}" : "nothing")} there");
                        }
                    }
                }
            }
        }

        return new HistoryVerdict(pairs.Count, messages, ackedMissing, storedTwice, mismatches, numberingGaps, refusedStored, neverAcked, foreign, failures, examples);
    }

    /// <summary>Every page of one conversation's history, 3 tries a page; null when a page kept failing.</summary>
    private static async Task<List<(long Seq, string Id)>?> ReadAsync(DevApi api, Uri target, string token, string conversation, CancellationToken cancellationToken)
    {
        var all = new List<(long Seq, string Id)>();
        while (true)
        {
            IReadOnlyList<(long Seq, string Id)>? page = null;
            for (var attempt = 1; page is null; attempt++)
            {
                try
                {
                    page = await api.HistoryAsync(target, token, conversation, all.Count > 0 ? all[^1].Seq : 0, PageSize, cancellationToken);
                }
                catch (Exception exception) when (attempt < 3 && exception is HttpRequestException or InvalidOperationException or TaskCanceledException or System.Text.Json.JsonException)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(300 * attempt), cancellationToken);
                }
                catch (Exception exception) when (exception is HttpRequestException or InvalidOperationException or TaskCanceledException or System.Text.Json.JsonException)
                {
                    Console.Error.WriteLine($"  history of {conversation}: {exception.Message}");
                    return null;
                }
            }

            if (page.Count == 0)
            {
                return all;
            }

            all.AddRange(page);
        }
    }
}
