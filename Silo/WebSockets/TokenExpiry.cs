using System.Net.WebSockets;

namespace Switchboard.Silo.WebSockets;

/// <summary>
/// Closes a socket with 4001 when its token expires. A timer reaches at most about 49 days ahead, so a
/// token that lives longer is waited for in steps.
/// </summary>
public sealed class TokenExpiry : IDisposable
{
    private static readonly TimeSpan MaxStep = TimeSpan.FromDays(30);

    private readonly DateTimeOffset _expires;
    private readonly WebSocketSession _session;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private bool _disposed;

    private TokenExpiry(DateTimeOffset expires, WebSocketSession session, TimeProvider time)
    {
        _expires = expires;
        _session = session;
        _time = time;
        _timer = time.CreateTimer(static state => ((TokenExpiry)state!).OnTick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Arm();
    }

    /// <summary>Starts watching the token's <c>exp</c>; null when the token has none.</summary>
    public static TokenExpiry Start(DateTimeOffset expires, WebSocketSession session, TimeProvider time) => new(expires, session, time);

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer.Dispose();
        }
    }

    private void Arm()
    {
        var left = _expires - _time.GetUtcNow();
        var due = left <= TimeSpan.Zero ? TimeSpan.Zero : left < MaxStep ? left : MaxStep;
        lock (_lock)
        {
            if (!_disposed)
            {
                _timer.Change(due, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void OnTick()
    {
        if (_time.GetUtcNow() < _expires)
        {
            Arm();
            return;
        }

        _session.Close((WebSocketCloseStatus)CloseCodes.TokenExpired, "token expired");
    }
}
