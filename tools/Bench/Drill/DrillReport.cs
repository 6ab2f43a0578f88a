using System.Globalization;
using System.Text;
using System.Text.Json;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>
/// A failover drill's figures, as printed and as written to <c>--out</c>. Times are seconds after the kill unless
/// named otherwise; null when the event never happened.
/// </summary>
internal sealed class DrillReport
{
    /// <summary>What the drill's receive loops and reconnects saw besides the messages.</summary>
    public sealed record Frames(
        long Foreign,
        long Unknown,
        Dictionary<string, long> UnmatchedErrors,
        Dictionary<string, long> CloseReasons,
        Dictionary<string, long> ConnectFailures,
        Dictionary<Arrival, long> Resumes,
        long ListsRead);

    public string Tool => $"Switchboard.Bench {Command}";

    /// <summary><c>failover-drill</c>, or <c>fault-drill</c> when <see cref="Fault"/> is set.</summary>
    public string Command => Fault is null ? "failover-drill" : "fault-drill";

    /// <summary>The fault of a fault drill (its times count from when it began); null for a kill.</summary>
    public FaultFigures? Fault { get; init; }

    /// <summary>History read back after the drill; null when the check did not run.</summary>
    public HistoryVerdict? History { get; init; }

    public required Dictionary<string, object> Settings { get; init; }

    public DateTime? KillUtc { get; init; }

    /// <summary>Seconds from the start of the drill to the kill.</summary>
    public double? KillAtSeconds { get; init; }

    public double? PidGoneMilliseconds { get; init; }

    public required Dictionary<string, int> ClientsByNodeAtKill { get; init; }

    public int ClientsOnKilledNode { get; init; }

    /// <summary>Clients of the killed node whose socket dropped after the kill.</summary>
    public int Dropped { get; init; }

    /// <summary>Clients of other nodes whose socket dropped (should be 0).</summary>
    public int DroppedElsewhere { get; init; }

    public int DropsBeforeKill { get; init; }

    public double? FirstDrop { get; init; }

    public double? LastDrop { get; init; }

    /// <summary>A dropped client's first welcome after its drop: the first and the last of them.</summary>
    public double? FirstBack { get; init; }

    public double? LastBack { get; init; }

    public int NotBack { get; init; }

    public int Reconnects { get; init; }

    public int FailedConnectAttempts { get; init; }

    public required Dictionary<string, long> ConnectFailures { get; init; }

    public required Dictionary<string, long> CloseReasons { get; init; }

    /// <summary>The first ack of a send written after the kill to a user whose client was on the killed node.</summary>
    public double? SendsToKilledNodeUsersAckedAgain { get; init; }

    /// <summary>The first ack after the kill of a send by a user whose client was on the killed node (after its reconnect).</summary>
    public double? SendsFromKilledNodeUsersAckedAgain { get; init; }

    /// <summary>The last ack of a send the kill stalled (waiting for an answer at the kill, or retried).</summary>
    public double? LastStalledSendAcked { get; init; }

    public double? LongestAckWaitSeconds { get; init; }

    /// <summary>The longest time without any ack while sends waited, after the kill.</summary>
    public double? LongestAckPauseSeconds { get; init; }

    public long Scheduled { get; init; }

    public long Acked { get; init; }

    public long NeverAcked { get; init; }

    public long Unavailable { get; init; }

    public long Timeouts { get; init; }

    public long DroppedWithSocket { get; init; }

    public long WaitedForSender { get; init; }

    public long Retries { get; init; }

    public long RepeatAcks { get; init; }

    public required Dictionary<string, long> Errors { get; init; }

    public required Dictionary<string, long> Resumes { get; init; }

    /// <summary><c>GET /api/users/{id}/conversations</c> answered (each reconnect and the final resume read one).</summary>
    public long ConversationListsRead { get; init; }

    public long Delivered { get; init; }

    public required Dictionary<string, long> DeliveredBy { get; init; }

    public long Lost { get; init; }

    public long DeliveredButNeverAcked { get; init; }

    public long Duplicates { get; init; }

    public long StoredTwice { get; init; }

    public long SeqConflicts { get; init; }

    public long DoublePushes { get; init; }

    public long RepeatsDropped { get; init; }

    public long OwnCopies { get; init; }

    public long Conversations { get; init; }

    public long GappedViews { get; init; }

    public long MissingSeqs { get; init; }

    public long Misroutes { get; init; }

    public long Inconsistent { get; init; }

    public long ForeignFrames { get; init; }

    public long UnknownFrames { get; init; }

    public required Dictionary<string, long> UnmatchedErrors { get; init; }

    public int ConnectedAtEnd { get; init; }

    public int Clients { get; init; }

    /// <summary>Hiccups a client rides out (a resume that timed out, a conversation list that failed); not failures.</summary>
    public required List<string> Notes { get; init; }

    public required List<string> Examples { get; init; }

    /// <summary>What makes the drill fail; empty when it passed.</summary>
    public List<string> Problems { get; } = [];

    public bool Passed => Problems.Count == 0;

    public static DrillReport Build(
        FailoverOptions options,
        string killNode,
        long startMicros,
        long killMicros,
        long pidGoneMicros,
        IReadOnlyList<DrillClient> clients,
        DrillLedger ledger,
        LedgerVerdict verdict,
        FaultFigures? fault,
        HistoryVerdict? history,
        Frames frames,
        IReadOnlyList<string> problems,
        IReadOnlyList<string> notes)
    {
        var killed = killMicros != 0;
        double? After(long micros) => killed && micros != 0 ? (micros - killMicros) / 1e6 : null;
        double? Min(IEnumerable<long> values) => values.Where(v => v != 0).DefaultIfEmpty(0).Min() is var v && v != 0 ? After(v) : null;
        double? Max(IEnumerable<long> values) => values.Where(v => v != 0).DefaultIfEmpty(0).Max() is var v && v != 0 ? After(v) : null;

        var victims = clients.Where(c => c.NodeAtKill == killNode).ToList();
        var droppedAfter = clients.Where(c => killed && c.DroppedMicros >= killMicros).ToList();
        var messages = ledger.Messages;
        var acked = messages.Where(m => m.State == SendState.Acked).ToList();
        var victimIndexes = victims.Select(c => c.Index).ToHashSet();
        var counts = ledger.Counts;

        var report = new DrillReport
        {
            Settings = new Dictionary<string, object>
            {
                ["target"] = DevApi.HttpBase(options.Target).ToString().TrimEnd('/'),
                ["clients"] = options.Clients,
                ["rate"] = options.Rate,
                ["before"] = options.Before,
                ["after"] = options.After,
                ["settle"] = options.Settle,
                ["ackTimeout"] = options.AckTimeout,
                ["seed"] = options.Seed,
                ["killPid"] = options.KillPid,
                ["killNode"] = killNode,
                ["control"] = options.Control ?? "none",
            },
            KillUtc = killed ? DateTime.UnixEpoch.AddTicks(killMicros * 10) : null,
            KillAtSeconds = killed ? (killMicros - startMicros) / 1e6 : null,
            PidGoneMilliseconds = killed && pidGoneMicros != 0 ? (pidGoneMicros - killMicros) / 1e3 : null,
            ClientsByNodeAtKill = clients.GroupBy(c => c.NodeAtKill ?? "(not connected)").OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            ClientsOnKilledNode = victims.Count,
            Dropped = droppedAfter.Count(c => c.NodeAtKill == killNode),
            DroppedElsewhere = droppedAfter.Count(c => c.NodeAtKill != killNode),
            DropsBeforeKill = clients.Count(c => c.DroppedMicros != 0 && (!killed || c.DroppedMicros < killMicros)),
            FirstDrop = Min(droppedAfter.Select(c => c.DroppedMicros)),
            LastDrop = Max(droppedAfter.Select(c => c.DroppedMicros)),
            FirstBack = Min(droppedAfter.Select(c => c.BackMicros)),
            LastBack = droppedAfter.Any(c => c.BackMicros == 0) ? null : Max(droppedAfter.Select(c => c.BackMicros)),
            NotBack = droppedAfter.Count(c => c.BackMicros == 0),
            Reconnects = clients.Sum(c => c.Reconnects),
            FailedConnectAttempts = clients.Sum(c => c.FailedAttempts),
            ConnectFailures = frames.ConnectFailures,
            CloseReasons = frames.CloseReasons,
            SendsToKilledNodeUsersAckedAgain = Min(acked.Where(m => victimIndexes.Contains(m.Target) && m.FirstWrittenMicros > killMicros).Select(m => m.AckedMicros)),
            SendsFromKilledNodeUsersAckedAgain = Min(acked.Where(m => victimIndexes.Contains(m.Sender) && m.AckedMicros > killMicros).Select(m => m.AckedMicros)),
            LastStalledSendAcked = Max(acked.Where(m => m.Stalled).Select(m => m.AckedMicros)),
            LongestAckWaitSeconds = acked.Count == 0 ? null : acked.Max(m => m.AckedMicros - m.FirstWrittenMicros) / 1e6,
            LongestAckPauseSeconds = killed ? LongestPause(messages, killMicros) : null,
            Scheduled = verdict.Scheduled,
            Acked = verdict.Acked,
            NeverAcked = verdict.NeverAcked,
            Unavailable = counts.Unavailable,
            Timeouts = counts.Timeouts,
            DroppedWithSocket = counts.DroppedWithSocket,
            WaitedForSender = counts.WaitedForSender,
            Retries = counts.Retries,
            RepeatAcks = counts.RepeatAcks,
            Errors = new Dictionary<string, long>(counts.Errors),
            Resumes = frames.Resumes.ToDictionary(r => Name(r.Key), r => r.Value),
            ConversationListsRead = frames.ListsRead,
            Delivered = verdict.Delivered,
            DeliveredBy = verdict.DeliveredBy.ToDictionary(r => Name(r.Key), r => r.Value),
            Lost = verdict.Lost,
            DeliveredButNeverAcked = verdict.DeliveredButNeverAcked,
            Duplicates = counts.Duplicates,
            StoredTwice = counts.StoredTwice,
            SeqConflicts = counts.SeqConflicts,
            DoublePushes = counts.DoublePushes,
            RepeatsDropped = counts.RepeatsDropped,
            OwnCopies = counts.OwnCopies,
            Conversations = verdict.Conversations,
            GappedViews = verdict.GappedViews,
            MissingSeqs = verdict.MissingSeqs,
            Misroutes = counts.Misroutes,
            Inconsistent = counts.Inconsistent,
            ForeignFrames = frames.Foreign,
            UnknownFrames = frames.Unknown,
            UnmatchedErrors = frames.UnmatchedErrors,
            ConnectedAtEnd = clients.Count(c => c.Connected),
            Clients = clients.Count,
            Notes = [.. notes],
            Examples = [.. verdict.Examples],
            Fault = fault,
            History = history,
        };
        report.Judge(killed, pidGoneMicros != 0, killNode, options.KillPid, problems, messages);
        return report;
    }

    private void Judge(bool killed, bool pidGone, string killNode, int pid, IReadOnlyList<string> problems, IReadOnlyList<DrillMessage> messages)
    {
        Problems.AddRange(problems);
        if (Fault is not null)
        {
            Fault.Judge(Problems);
        }
        else if (!killed)
        {
            Problems.Add("the silo was never killed");
        }
        else
        {
            if (!pidGone)
            {
                Problems.Add($"pid {pid} was still alive 5 s after the SIGKILL");
            }

            if (Dropped == 0)
            {
                Problems.Add($"no socket of {killNode}'s {ClientsOnKilledNode} clients dropped after the kill: was pid {pid} really {killNode}?");
            }
        }

        if (History is { Failures: > 0 } h)
        {
            Problems.Add($"history disagrees: {h.AckedMissing} acked messages missing, {h.StoredTwice} stored twice, {h.SeqMismatches} seqs naming another message " +
                $"than a client was told, {h.NumberingGaps} numbering gaps, {h.RefusedButStored} refused but stored, {h.Foreign} foreign, {h.ReadFailures} conversations unreadable");
        }

        if (Lost > 0)
        {
            Problems.Add($"{Lost} acked messages never reached their recipient, live or by resume");
        }

        if (Duplicates > 0)
        {
            Problems.Add($"{Duplicates} duplicates ({StoredTwice} ids stored under two seqs, {SeqConflicts} seqs carrying two messages, {DoublePushes} seqs pushed twice to a connection that never resumed)");
        }

        if (NeverAcked > 0)
        {
            var refused = messages.Where(m => m.State == SendState.Refused).GroupBy(m => m.RefusedCode).Select(g => $"refused {g.Key} ×{g.Count()}");
            Problems.Add($"{NeverAcked} sends never acked ({string.Join(", ", refused.Append($"{messages.Count(m => m.State is not (SendState.Acked or SendState.Refused))} still unanswered or retrying"))})");
        }

        if (MissingSeqs > 0)
        {
            Problems.Add($"{GappedViews} client conversations have gaps: {MissingSeqs} seqs missing");
        }

        if (ConnectedAtEnd < Clients)
        {
            Problems.Add($"{Clients - ConnectedAtEnd} of {Clients} clients were not connected at the end");
        }

        if (Misroutes + Inconsistent > 0)
        {
            Problems.Add($"{Misroutes} messages at a client that is neither sender nor recipient, {Inconsistent} frames disagreeing with what was sent or acked");
        }

        if (ForeignFrames + UnknownFrames + UnmatchedErrors.Values.Sum() > 0)
        {
            Problems.Add($"{ForeignFrames} frames with ids this run never sent, {UnknownFrames} unknown frames, {UnmatchedErrors.Values.Sum()} errors matching no request");
        }
    }

    /// <summary>After the kill, the longest stretch with sends waiting and no ack arriving (end of the pause: the next ack).</summary>
    private static double? LongestPause(IReadOnlyList<DrillMessage> messages, long killMicros)
    {
        var acks = messages.Where(m => m.State == SendState.Acked && m.AckedMicros > killMicros).Select(m => m.AckedMicros).Order().ToList();
        if (acks.Count == 0)
        {
            return null;
        }

        var longest = 0L;
        var previous = killMicros;
        foreach (var ack in acks)
        {
            // Count the stretch only when a send was waiting for its answer throughout it.
            var waiting = messages.Any(m => m.FirstWrittenMicros != 0 && m.FirstWrittenMicros <= previous && (m.State != SendState.Acked || m.AckedMicros >= ack));
            if (waiting)
            {
                longest = Math.Max(longest, ack - previous);
            }

            previous = ack;
        }

        return longest / 1e6;
    }

    private static string Name(Arrival arrival) => arrival switch
    {
        Arrival.Live => "live",
        Arrival.ReconnectResume => "reconnect resume",
        Arrival.GapResume => "gap resume",
        _ => "final resume",
    };

    public string Format()
    {
        var text = new StringBuilder();
        string S(double? seconds) => seconds is null ? "-" : $"+{seconds.Value.ToString("F2", CultureInfo.InvariantCulture)} s";
        string List(Dictionary<string, long> counts) => counts.Count == 0 ? "none" : string.Join(", ", counts.OrderByDescending(c => c.Value).Select(c => $"{c.Key} ×{c.Value}"));

        text.AppendLine();
        text.AppendLine(Fault is null
            ? $"== failover drill · {Settings["target"]} · SIGKILL {Settings["killNode"]} (pid {Settings["killPid"]})"
            : $"== fault drill · {Settings["target"]} · {Fault.Kind}");
        text.AppendLine($"   {string.Join(", ", Settings.Where(s => s.Key is not ("target" or "killNode" or "killPid") && (Fault is null || s.Key != "control")).Select(s => $"{s.Key} {Convert.ToString(s.Value, CultureInfo.InvariantCulture)}"))}");
        if (Fault is not null)
        {
            text.AppendLine($"   began          {(KillUtc is { } began ? $"{began:HH:mm:ss.fff} UTC, {KillAtSeconds:F1} s into the drill (times below: after it began)" : "never")}");
            text.AppendLine($"   clients        when it began: {string.Join(", ", ClientsByNodeAtKill.Select(n => $"{n.Key} {n.Value}"))}");
            Fault.Format(text);
        }
        else
        {
            FormatKill(text);
        }

        text.AppendLine($"   reconnects     back with a welcome: first {S(FirstBack)}, last {S(LastBack)}{(NotBack > 0 ? $", {NotBack} never" : string.Empty)}; {Reconnects} reconnects, {FailedConnectAttempts} failed attempts ({List(ConnectFailures)})");
        text.AppendLine($"   acks           last stalled send acked {S(LastStalledSendAcked)}; longest ack pause {(LongestAckPauseSeconds is { } pause ? $"{pause:F2} s" : "-")}; longest wait for one ack {(LongestAckWaitSeconds is { } wait ? $"{wait:F2} s" : "-")}");
        text.AppendLine($"   retries        {Retries} writes again {(Settings["control"] is "new-id-retries" ? "under a NEW id (control)" : "with the same id")}: unavailable {Unavailable}, unanswered in {Settings["ackTimeout"]} s {Timeouts}, lost with the socket {DroppedWithSocket}; " +
            $"{WaitedForSender} waited for their sender to reconnect; {RepeatAcks} repeated acks; errors: {List(Errors)}");
        text.AppendLine($"   resumes        {string.Join(", ", Resumes.Select(r => $"{r.Key} ×{r.Value}"))} (a resume is sent only where something is missing); {ConversationListsRead} conversation lists read");
        text.AppendLine($"   messages       scheduled {Scheduled}, acked {Acked}, never acked {NeverAcked}; delivered {Delivered} of {Acked} acked ({List(DeliveredBy)}); {OwnCopies} own messages replayed to their senders");
        text.AppendLine($"   integrity      lost {Lost}, duplicates {Duplicates} (ids under two seqs {StoredTwice}, seqs with two messages {SeqConflicts}, double pushes {DoublePushes}); " +
            $"repeats dropped by (conversation, seq) {RepeatsDropped}; gaps {GappedViews} ({MissingSeqs} seqs) over {Conversations} conversations; misrouted {Misroutes}, inconsistent {Inconsistent}");
        var h = History;
        text.AppendLine(h is not null
            ? $"   history        {h.Conversations} conversations read back, {h.Messages} messages: acked but missing {h.AckedMissing}, stored twice {h.StoredTwice}, seq naming another message {h.SeqMismatches}, " +
              $"numbering gaps {h.NumberingGaps}, refused but stored {h.RefusedButStored}, stored but never acked {h.StoredNeverAcked}, foreign {h.Foreign}, unreadable {h.ReadFailures}"
            : "   history        not checked");
        foreach (var example in h?.Examples ?? [])
        {
            text.AppendLine($"   e.g. {example}");
        }

        text.AppendLine($"   connected      {ConnectedAtEnd} of {Clients} at the end");
        foreach (var note in Notes)
        {
            text.AppendLine($"   note: {note}");
        }

        foreach (var example in Examples)
        {
            text.AppendLine($"   e.g. {example}");
        }

        text.AppendLine(Passed
            ? $"{Command}: PASSED: lost 0, duplicates 0, no gap, history agrees, every send acked, all {Clients} clients connected"
            : $"{Command}: FAILED: {string.Join("; ", Problems)}");
        return text.ToString();
    }

    private void FormatKill(StringBuilder text)
    {
        string S(double? seconds) => seconds is null ? "-" : $"+{seconds.Value.ToString("F2", CultureInfo.InvariantCulture)} s";
        text.AppendLine($"   kill           {(KillUtc is { } utc ? $"{utc:HH:mm:ss.fff} UTC, {KillAtSeconds:F1} s into the drill; pid gone after {(PidGoneMilliseconds is { } gone ? $"{gone:F0} ms" : "-")}" : "never")}");
        text.AppendLine($"   clients        at the kill: {string.Join(", ", ClientsByNodeAtKill.Select(n => $"{n.Key} {n.Value}"))}");
        text.AppendLine($"   drops          {Dropped} of {ClientsOnKilledNode} on {Settings["killNode"]} dropped, first {S(FirstDrop)}, last {S(LastDrop)}; elsewhere {DroppedElsewhere}; before the kill {DropsBeforeKill} " +
            $"({(CloseReasons.Count == 0 ? "none" : string.Join(", ", CloseReasons.OrderByDescending(c => c.Value).Select(c => $"{c.Key} ×{c.Value}")))})");
        text.AppendLine($"   acks again     sends to {Settings["killNode"]}'s users {S(SendsToKilledNodeUsersAckedAgain)} (first written after the kill), from them {S(SendsFromKilledNodeUsersAckedAgain)}");
    }

    public async Task WriteJsonAsync(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(this, ReportWriter.Json));
    }
}
