namespace Switchboard.Grains.Limits;

/// <summary>
/// A token bucket: <c>perSecond</c> on average, <c>burst</c> at once; a rate of 0 or less never refuses. Not thread-safe:
/// one owner takes from it (a grain's turns, a socket's receive loop).
/// </summary>
public sealed class TokenBucket(double perSecond, int burst, TimeProvider time)
{
    private double _tokens = burst;
    private long _last = time.GetTimestamp();

    /// <summary>Whether the bucket limits at all.</summary>
    public bool Limits => perSecond > 0;

    public bool TryTake()
    {
        if (!Limits)
        {
            return true;
        }

        var now = time.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + (time.GetElapsedTime(_last, now).TotalSeconds * perSecond));
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }
}
