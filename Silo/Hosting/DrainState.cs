using System.Net.WebSockets;
using Switchboard.Silo.Diagnostics;
using Switchboard.Silo.WebSockets;

namespace Switchboard.Silo.Hosting;

/// <summary>
/// Graceful shutdown: when the host starts stopping, the silo turns unready, refuses new sockets and closes
/// its open ones with 1012 so clients reconnect elsewhere and resume; then it waits (bounded) for them.
/// </summary>
public sealed class DrainState(IHostApplicationLifetime lifetime, OpenSockets sockets, ILogger<DrainState> logger) : IHostedService
{
    private const string Reason = "node shutting down: reconnect and resume";

    private volatile bool _draining;

    public bool IsDraining => _draining;

    /// <summary>Adds a socket that starts running (see <see cref="OpenSockets.Add"/>); closed at once when the node is draining.</summary>
    public void Add(WebSocketSession session, DateTimeOffset? expires)
    {
        sockets.Add(session, expires);
        if (_draining)
        {
            session.Close((WebSocketCloseStatus)CloseCodes.NodeShuttingDown, Reason);
        }
    }

    /// <summary>Removes a socket that stopped running (see <see cref="OpenSockets.Remove"/>).</summary>
    public void Remove(WebSocketSession session) => sockets.Remove(session);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(Drain);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Drain();

        // Bounded: sockets whose clients do not answer are aborted by their own close timers.
        try
        {
            await sockets.WhenEmpty().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            ConnectionLog.DrainIncomplete(logger, sockets.Count);
        }
    }

    private void Drain()
    {
        if (_draining)
        {
            return;
        }

        _draining = true;
        ConnectionLog.Draining(logger, sockets.Count);
        sockets.CloseAll((WebSocketCloseStatus)CloseCodes.NodeShuttingDown, Reason);
    }
}
