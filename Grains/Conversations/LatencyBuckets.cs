namespace Switchboard.Grains.Conversations;

/// <summary>Histogram bucket boundaries for the durations Switchboard records, in seconds.</summary>
public static class LatencyBuckets
{
    /// <summary>
    /// From 100 µs (a commit on a fast disk, an in-memory send) to 10 s (a grain call timing out): a messaging
    /// system's acks live around a millisecond, so the buckets are densest there.
    /// </summary>
    public static readonly IReadOnlyList<double> Seconds =
        [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
}
