namespace Switchboard.Bench.Load;

/// <summary>
/// Run-wide counters for the progress line and the connection report. Public fields, not properties: every
/// update is an Interlocked operation on a ref to the field.
/// </summary>
internal sealed class TrafficCounters
{
    public long Sent;
    public long Acked;
    public long Failed;
    public long Delivered;
    public long Connected;
    public long UnexpectedCloses;
    public long ForeignFrames;
    public long StaleFrames;
    public long UnknownFrames;
    public long UnmatchedErrors;

    /// <summary>W5: <c>read</c> frames sent for delivered messages, their acks, and the peers' live <c>read</c> frames received.</summary>
    public long ReadsSent;
    public long ReadsAcked;
    public long ReadReceipts;
}
