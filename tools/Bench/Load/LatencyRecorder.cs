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
    /// <summary>Seconds of a window the per-second worst is kept for (W1/W2/W5 measure 20).</summary>
    public const int TimelineSeconds = 120;

    private readonly double[] _micros = new double[Math.Max(capacity, 16)];
    // The worst sample per second of the window, by when its message was due: where in the window a tail came from
    // (a cold start's spike at its beginning, a GC pause or a stall anywhere).
    private readonly long[] _worstBySecond = new long[TimelineSeconds];
    private long _seconds;
    private int _count;
    private long _overflow;

    public long Overflow => Interlocked.Read(ref _overflow);

    /// <summary>Adds a sample of a message due <paramref name="second"/> whole seconds into the window.</summary>
    public void Add(double micros, int second)
    {
        Add(micros);
        if ((uint)second >= TimelineSeconds)
        {
            return;
        }

        InterlockedMax(ref _seconds, second + 1);
        InterlockedMax(ref _worstBySecond[second], (long)micros);
    }

    /// <summary>The worst sample of each second of the window so far, in milliseconds (0 for a second without samples).</summary>
    public double[] WorstBySecond()
    {
        var seconds = (int)Interlocked.Read(ref _seconds);
        var worst = new double[seconds];
        for (var i = 0; i < seconds; i++)
        {
            worst[i] = Interlocked.Read(ref _worstBySecond[i]) / 1000.0;
        }

        return worst;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var seen = Interlocked.Read(ref target);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

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
