using System.Collections.Concurrent;
using System.Net.WebSockets;
using Switchboard.Silo.Diagnostics;
using Switchboard.Silo.WebSockets;

namespace Switchboard.Silo.Hosting;

/// <summary>
/// Graceful shutdown: when the host starts stopping, the silo turns unready, refuses new sockets and closes
/// its open ones with 1012 so clients reconnect elsewhere and resume; then it waits (bounded) for them.
/// </summary>
public sealed class DrainState(IHostApplicationLifetime lifetime, ILogger<DrainState> logger) : IHostedService
{
    private readonly ConcurrentDictionary<WebSocketSession, byte> _sessions = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public IDisposable Register(WebSocketSession session)
    {
        _sessions[session] = 0;
        if (_draining)
        {
            session.Close((WebSocketCloseStatus)CloseCodes.NodeShuttingDown, "node shutting down: reconnect and resume");
        }

        return new Registration(this, session);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(Drain);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Drain();

        // Bounded: sockets whose clients do not answer are aborted by their own close timers.
        if (!_sessions.IsEmpty)
        {
            try
            {
                await _drained.Task.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            }
            catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
            {
                ConnectionLog.DrainIncomplete(logger, _sessions.Count);
            }
        }
    }

    private void Drain()
    {
        if (_draining)
        {
            return;
        }

        _draining = true;
        ConnectionLog.Draining(logger, _sessions.Count);
        if (_sessions.IsEmpty)
        {
            _drained.TrySetResult();
        }

        foreach (var session in _sessions.Keys)
        {
            session.Close((WebSocketCloseStatus)CloseCodes.NodeShuttingDown, "node shutting down: reconnect and resume");
        }
    }

    private sealed class Registration(DrainState owner, WebSocketSession session) : IDisposable
    {
        public void Dispose()
        {
            if (owner._sessions.TryRemove(session, out _) && owner._draining && owner._sessions.IsEmpty)
            {
                owner._drained.TrySetResult();
            }
        }
    }
}
