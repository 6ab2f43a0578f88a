namespace Switchboard.Cli.Tail;

/// <summary>
/// Exponential backoff with full jitter: the n-th wait (from 0) is uniform in [0, min(cap, initial * 2^n)].
/// Full jitter, not a fixed ladder, so clients that lost their node at the same moment do not come back in step.
/// </summary>
public sealed class Backoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _cap;
    private readonly Random _random;

    public Backoff(TimeSpan initial, TimeSpan cap, Random? random = null)
    {
        if (initial <= TimeSpan.Zero || cap < initial)
        {
            throw new ArgumentOutOfRangeException(nameof(initial), $"Backoff needs 0 < initial <= cap (got {initial}, {cap}).");
        }

        _initial = initial;
        _cap = cap;
        _random = random ?? Random.Shared;
    }

    /// <summary>The failed attempts since the last <see cref="Reset"/>.</summary>
    public int Attempt { get; private set; }

    /// <summary>The upper bound of the next wait: <c>min(cap, initial * 2^attempt)</c>.</summary>
    public TimeSpan Ceiling => Ceil(Attempt);

    /// <summary>The next wait; counts an attempt.</summary>
    public TimeSpan Next()
    {
        var ceiling = Ceil(Attempt);
        Attempt++;
        return TimeSpan.FromTicks((long)(_random.NextDouble() * ceiling.Ticks));
    }

    /// <summary>After a connection that worked: the next failure starts from <c>initial</c> again.</summary>
    public void Reset() => Attempt = 0;

    private TimeSpan Ceil(int attempt)
    {
        // Past 2^30 any sane cap is reached; stopping there keeps the arithmetic far from overflow.
        var factor = Math.Pow(2, Math.Min(attempt, 30));
        var ticks = _initial.Ticks * factor;
        return ticks >= _cap.Ticks ? _cap : TimeSpan.FromTicks((long)ticks);
    }
}
