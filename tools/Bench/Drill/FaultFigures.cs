using System.Globalization;
using System.Text;

namespace Switchboard.Bench.Drill;

/// <summary>Who dropped at one step of a fault and when they were back (seconds after the step).</summary>
internal sealed record StepFigures(string Step, double AtSeconds, int Dropped, double? FirstDrop, double? LastBack, int NotBack);

/// <summary>
/// Ack latency of the sends scheduled in one phase, in ms: from when the open loop scheduled it to its ack, so the
/// wait for a disconnected sender to come back and every retry count, as the user would feel them.
/// </summary>
internal sealed record PhaseLatency(string Phase, int Acked, double? P50, double? P99, double? Max, long StalledByUnavailable);

/// <summary>
/// A fault's figures beside the failover report's: its timeline, per disrupting step who dropped and when all were
/// back, ack latency before, during and after it, and what the store outage window saw. Times are seconds after the
/// fault began unless named otherwise.
/// </summary>
internal sealed class FaultFigures
{
    public required string Kind { get; init; }

    public required string Plan { get; init; }

    public required List<string> Timeline { get; init; }

    public double? FaultSeconds { get; init; }

    public required List<StepFigures> Steps { get; init; }

    public int DropsOutsideSteps { get; init; }

    public required List<PhaseLatency> Latency { get; init; }

    /// <summary>The longest stretch after the fault began with no ack at all (to the next ack), and when it began.</summary>
    public double? LongestWithoutAck { get; init; }

    public double? LongestWithoutAckFrom { get; init; }

    public double? DownSeconds { get; init; }

    /// <summary>Acks that arrived while the store was down (from 0.5 s after it was seen down until it was started again).</summary>
    public long AckedWhileDown { get; init; }

    public long WrittenWhileDown { get; init; }

    /// <summary>Of the sends first written while the store was down: acked before it was started again.</summary>
    public long WrittenWhileDownAckedWhileDown { get; init; }

    public long WrittenWhileDownAnsweredUnavailable { get; init; }

    public long DroppedWhileDown { get; init; }

    public required List<string> Problems { get; init; }

    public static FaultFigures Build(Fault fault, FaultTimeline timeline, long faultStart, long faultEnd, IReadOnlyList<DrillClient> clients, IReadOnlyList<DrillMessage> messages)
    {
        double Seconds(long micros, long from) => (micros - from) / 1e6;
        var events = timeline.Events;
        var disruptions = timeline.Disruptions;
        var outages = clients.SelectMany(c => c.Outages).ToList();
        var steps = new List<StepFigures>();
        var counted = 0;
        for (var i = 0; i < disruptions.Count; i++)
        {
            var from = disruptions[i].Micros;
            var to = i + 1 < disruptions.Count ? disruptions[i + 1].Micros : long.MaxValue;
            var dropped = outages.Where(o => o.DroppedMicros >= from && o.DroppedMicros < to).ToList();
            counted += dropped.Count;
            steps.Add(new StepFigures(
                disruptions[i].What,
                Seconds(from, faultStart),
                dropped.Count,
                dropped.Count == 0 ? null : Seconds(dropped.Min(o => o.DroppedMicros), from),
                dropped.Count == 0 || dropped.Any(o => o.BackMicros == 0) ? null : Seconds(dropped.Max(o => o.BackMicros), from),
                dropped.Count(o => o.BackMicros == 0)));
        }

        var acked = messages.Where(m => m.State == SendState.Acked).ToList();
        PhaseLatency Phase(string name, Func<DrillMessage, bool> written)
        {
            var waits = acked.Where(written).Select(m => m.AckedMicros - m.ScheduledMicros).Order().ToList();
            // Null, not NaN, when nothing was acked: the JSON report cannot hold NaN.
            return waits.Count == 0
                ? new PhaseLatency(name, 0, null, null, null, messages.Count(m => written(m) && m.Unavailable > 0))
                : new PhaseLatency(name, waits.Count, DrillKit.PercentileMs(waits, 50), DrillKit.PercentileMs(waits, 99), waits[^1] / 1000.0, messages.Count(m => written(m) && m.Unavailable > 0));
        }

        var end = faultEnd == 0 ? long.MaxValue : faultEnd;
        var latency = new List<PhaseLatency>
        {
            Phase("before", m => m.ScheduledMicros < faultStart),
            Phase("during", m => m.ScheduledMicros >= faultStart && m.ScheduledMicros <= end),
            Phase("after", m => m.ScheduledMicros > end),
        };

        // Unavailability as the clients saw it: from the fault (or the last ack after it) to the next ack.
        var ackTimes = acked.Where(m => m.AckedMicros > faultStart).Select(m => m.AckedMicros).Order().Prepend(faultStart).ToList();
        var (gap, gapFrom) = ackTimes.Count < 2 ? (0L, 0L) : ackTimes.Zip(ackTimes.Skip(1)).Select(p => (p.Second - p.First, p.First)).Max();

        var downFrom = timeline.DownFromMicros;
        var downTo = timeline.DownToMicros != 0 ? timeline.DownToMicros : end;
        var down = downFrom != 0;
        bool WrittenDown(DrillMessage m) => down && m.FirstWrittenMicros >= downFrom && m.FirstWrittenMicros < downTo;

        // Half a second after the store was seen down: an ack on its way when it went is not an ack of the outage.
        var ackedWhileDown = down ? acked.Count(m => m.AckedMicros > downFrom + 500_000 && m.AckedMicros < downTo) : 0;
        return new FaultFigures
        {
            Kind = fault.Name,
            Plan = fault.Plan,
            Timeline = [.. events.Select(e => $"{Seconds(e.Micros, faultStart).ToString("+0.00;-0.00", CultureInfo.InvariantCulture)} s  {e.What}")],
            FaultSeconds = faultEnd == 0 ? null : Seconds(faultEnd, faultStart),
            Steps = steps,
            DropsOutsideSteps = outages.Count(o => o.DroppedMicros >= faultStart) - counted,
            Latency = latency,
            LongestWithoutAck = ackTimes.Count < 2 ? null : gap / 1e6,
            LongestWithoutAckFrom = ackTimes.Count < 2 ? null : Seconds(gapFrom, faultStart),
            DownSeconds = down ? Seconds(downTo, downFrom) : null,
            AckedWhileDown = ackedWhileDown,
            WrittenWhileDown = messages.Count(WrittenDown),
            WrittenWhileDownAckedWhileDown = acked.Count(m => WrittenDown(m) && m.AckedMicros < downTo),
            WrittenWhileDownAnsweredUnavailable = messages.Count(m => WrittenDown(m) && m.Unavailable > 0),
            DroppedWhileDown = down ? outages.Count(o => o.DroppedMicros >= downFrom && o.DroppedMicros < downTo) : 0,
            Problems = [.. timeline.Problems],
        };
    }

    /// <summary>The fault's own verdict: the steps it took, and what its kind promises.</summary>
    public void Judge(List<string> problems)
    {
        problems.AddRange(Problems);
        if (FaultSeconds is null)
        {
            problems.Add($"the {Kind} fault did not finish");
        }

        foreach (var step in Steps.Where(s => s.NotBack > 0))
        {
            problems.Add($"{step.NotBack} of the {step.Dropped} clients dropped at \"{step.Step}\" never got a welcome again");
        }

        switch (Kind)
        {
            case "mariadb-outage" when AckedWhileDown > 0:
                problems.Add($"{AckedWhileDown} sends were acked while MariaDB was down: an ack must follow a durable commit");
                break;
            case "redis-outage":
                if (WrittenWhileDown > 0 && WrittenWhileDownAckedWhileDown == 0)
                {
                    problems.Add($"none of the {WrittenWhileDown} sends written while Redis was down was acked before it came back: the cluster stopped serving");
                }

                if (DroppedWhileDown > 0)
                {
                    problems.Add($"{DroppedWhileDown} sockets dropped while Redis was down");
                }

                break;
        }
    }

    public void Format(StringBuilder text)
    {
        static string S(double? seconds) => seconds is null ? "-" : $"+{seconds.Value.ToString("F2", CultureInfo.InvariantCulture)} s";
        text.AppendLine($"   fault          {Kind}: {Plan}; {(FaultSeconds is { } took ? $"took {took:F1} s" : "did not finish")}");
        foreach (var line in Timeline)
        {
            text.AppendLine($"     {line}");
        }

        foreach (var step in Steps)
        {
            text.AppendLine($"   step           \"{step.Step}\" (+{step.AtSeconds:F2} s): {step.Dropped} sockets dropped (first {S(step.FirstDrop)}), all back with a welcome {S(step.LastBack)}{(step.NotBack > 0 ? $", {step.NotBack} never" : string.Empty)}");
        }

        if (DropsOutsideSteps > 0)
        {
            text.AppendLine($"   drops          {DropsOutsideSteps} sockets dropped after the fault began, outside its restart steps");
        }

        if (DownSeconds is { } down)
        {
            text.AppendLine($"   store down     {down:F1} s: {WrittenWhileDown} sends first written then, {WrittenWhileDownAckedWhileDown} of them acked while it was down, " +
                $"{WrittenWhileDownAnsweredUnavailable} answered unavailable at least once; {AckedWhileDown} acks arrived while it was down; {DroppedWhileDown} sockets dropped");
        }

        text.AppendLine($"   no ack         longest stretch without any ack {(LongestWithoutAck is { } gap ? $"{gap:F2} s, from {S(LongestWithoutAckFrom)}" : "-")}");
        foreach (var phase in Latency)
        {
            text.AppendLine($"   latency        {phase.Phase,-7} {phase.Acked,5} acked, scheduled to ack p50 {DrillKit.Ms(phase.P50 ?? double.NaN)} ms, p99 {DrillKit.Ms(phase.P99 ?? double.NaN)} ms, max {DrillKit.Ms(phase.Max ?? double.NaN)} ms; {phase.StalledByUnavailable} answered unavailable first");
        }
    }
}
