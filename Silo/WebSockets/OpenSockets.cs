using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Switchboard.Silo.WebSockets;

/// <summary>
/// The sockets this silo is running, each with the expiry of the token it opened with. One timer per silo
/// closes those whose token expired (4001), checking once a second, instead of a timer per socket: an idle
/// socket's whole cost here is one dictionary entry. The drain closes them all through <see cref="CloseAll"/>.
/// </summary>
public sealed class OpenSockets : IDisposable
{
    /// <summary>How often expiries are checked: a socket closes at most this long after its token expired.</summary>
    public static readonly TimeSpan ExpiryCheckInterval = TimeSpan.FromSeconds(1);

    private const long NoExpiry = long.MaxValue;

    private readonly ConcurrentDictionary<WebSocketSession, long> _sockets = new();
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private TaskCompletionSource? _emptied;

    public OpenSockets(TimeProvider time)
    {
        _time = time;
        _timer = time.CreateTimer(static state => ((OpenSockets)state!).CloseExpired(), this, ExpiryCheckInterval, ExpiryCheckInterval);
    }

    public int Count => _sockets.Count;

    /// <summary>Adds a running socket whose token expires at <paramref name="expires"/> (null: never).</summary>
    public void Add(WebSocketSession session, DateTimeOffset? expires)
    {
        var at = expires?.UtcTicks ?? NoExpiry;
        _sockets[session] = at;
        if (at <= _time.GetUtcNow().UtcTicks)
        {
            CloseExpired(session);
        }
    }

    /// <summary>Moves a running socket's expiry to its refreshed token's (an <c>auth</c> frame); nothing when it stopped.</summary>
    public void Refresh(WebSocketSession session, DateTimeOffset? expires)
    {
        var at = expires?.UtcTicks ?? NoExpiry;
        if (_sockets.TryGetValue(session, out var held) && _sockets.TryUpdate(session, at, held) && at <= _time.GetUtcNow().UtcTicks)
        {
            CloseExpired(session);
        }
    }

    /// <summary>Removes a socket that stopped running (idempotent).</summary>
    public void Remove(WebSocketSession session)
    {
        if (_sockets.TryRemove(session, out _) && _sockets.IsEmpty)
        {
            Volatile.Read(ref _emptied)?.TrySetResult();
        }
    }

    /// <summary>Starts closing every socket with <paramref name="status"/>; returns how many were open.</summary>
    public int CloseAll(WebSocketCloseStatus status, string reason)
    {
        var count = 0;
        foreach (var (session, _) in _sockets)
        {
            session.Close(status, reason);
            count++;
        }

        return count;
    }

    /// <summary>
    /// Completes once no socket is running (at once when none is). For the drain: once completed it stays so, and
    /// sockets added during a drain are closed as they come.
    /// </summary>
    public Task WhenEmpty()
    {
        var emptied = Volatile.Read(ref _emptied) ?? LazyInitializer.EnsureInitialized(ref _emptied, () => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_sockets.IsEmpty)
        {
            emptied.TrySetResult();
        }

        return emptied.Task;
    }

    public void Dispose() => _timer.Dispose();

    private void CloseExpired()
    {
        var now = _time.GetUtcNow().UtcTicks;
        foreach (var (session, expires) in _sockets)
        {
            if (expires <= now)
            {
                CloseExpired(session);
            }
        }
    }

    private static void CloseExpired(WebSocketSession session) =>
        session.Close((WebSocketCloseStatus)CloseCodes.TokenExpired, "token expired");
}
