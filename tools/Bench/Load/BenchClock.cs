using System.Diagnostics;

namespace Switchboard.Bench.Load;

/// <summary>
/// Wall-clock microseconds since the Unix epoch with <see cref="Stopwatch"/> resolution: the wall clock is read
/// once and the high-resolution counter carries it, so every stamp in the process (a sender's send time, a
/// recipient's receive time) comes from one clock that never steps.
/// </summary>
internal static class BenchClock
{
    private static readonly long OriginTimestamp = Stopwatch.GetTimestamp();
    private static readonly long OriginUnixMicros = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
    private static readonly double MicrosPerTimestamp = 1_000_000.0 / Stopwatch.Frequency;

    public static long NowMicros() => OriginUnixMicros + (long)((Stopwatch.GetTimestamp() - OriginTimestamp) * MicrosPerTimestamp);
}
