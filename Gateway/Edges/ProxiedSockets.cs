using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http.Features;
using Switchboard.Gateway.Diagnostics;

namespace Switchboard.Gateway.Edges;

/// <summary>
/// The WebSockets being proxied now. When the gateway starts stopping they are aborted at once: Kestrel
/// would otherwise wait its whole shutdown timeout for them. Clients see the connection drop, reconnect
/// (to another gateway) and <c>resume</c>.
/// </summary>
public sealed class ProxiedSockets(IHostApplicationLifetime lifetime, ILogger<ProxiedSockets> logger) : IHostedService
{
    private readonly ConcurrentDictionary<HttpContext, byte> _open = new();
    private volatile bool _stopping;

    public int Count => _open.Count;

    public static bool IsUpgrade(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
        || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;

    /// <summary>Runs <paramref name="next"/> for a socket request, tracked until it ends.</summary>
    public async Task TrackAsync(HttpContext context, Func<Task> next)
    {
        _open[context] = 0;
        try
        {
            if (_stopping)
            {
                context.Abort();
                return;
            }

            await next();
        }
        finally
        {
            _open.TryRemove(context, out _);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(AbortAll);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        AbortAll();
        return Task.CompletedTask;
    }

    private void AbortAll()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        GatewayLog.AbortingSockets(logger, _open.Count);
        foreach (var context in _open.Keys)
        {
            context.Abort();
        }
    }
}
