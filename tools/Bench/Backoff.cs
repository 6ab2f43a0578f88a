namespace Switchboard.Bench;

/// <summary>Exponential backoff with full jitter: a wait drawn uniformly from 0 to min(cap, base × 2^attempt).</summary>
internal static class Backoff
{
    /// <summary>The wait before retry number <paramref name="attempt"/> (0 for the first).</summary>
    public static TimeSpan FullJitter(int attempt, double baseMs, double capMs) =>
        TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(capMs, baseMs * Math.Pow(2, Math.Min(attempt, 30))));
}
