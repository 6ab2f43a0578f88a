namespace Switchboard.Bench.Load;

/// <summary>Percentiles (nearest rank) over every sample; milliseconds.</summary>
internal sealed record LatencyStats(long Count, double? P50, double? P95, double? P99, double? Max)
{
    public static LatencyStats From(double[] sortedMillis)
    {
        if (sortedMillis.Length == 0)
        {
            return new LatencyStats(0, null, null, null, null);
        }

        return new LatencyStats(
            sortedMillis.Length,
            NearestRank(sortedMillis, 50),
            NearestRank(sortedMillis, 95),
            NearestRank(sortedMillis, 99),
            sortedMillis[^1]);
    }

    /// <summary>The smallest value with at least <paramref name="percent"/> % of the samples at or below it.</summary>
    public static double NearestRank(double[] sorted, double percent) =>
        sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>
/// Lock-free append of latency samples from every receive loop into one preallocated array, sized for the
/// window's expected deliveries; samples past the capacity are counted, not kept.
/// </summary>
internal sealed class LatencyRecorder(int capacity)
{
    private readonly double[] _micros = new double[Math.Max(capacity, 16)];
    private int _count;
    private long _overflow;

    public long Overflow => Interlocked.Read(ref _overflow);

    public void Add(double micros)
    {
        var index = Interlocked.Increment(ref _count) - 1;
        if (index < _micros.Length)
        {
            _micros[index] = micros;
        }
        else
        {
            Interlocked.Increment(ref _overflow);
        }
    }

    /// <summary>Sorts a copy of the samples taken so far and returns their percentiles in milliseconds.</summary>
    public LatencyStats Summarize()
    {
        var count = Math.Min(Volatile.Read(ref _count), _micros.Length);
        var millis = new double[count];
        for (var i = 0; i < count; i++)
        {
            millis[i] = _micros[i] / 1000.0;
        }

        Array.Sort(millis);
        return LatencyStats.From(millis);
    }
}
