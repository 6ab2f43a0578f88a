using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Switchboard.Silo.WebSockets;

namespace Switchboard.Silo.Hosting;

/// <summary>The <c>/ws</c> endpoint: taken at the Kestrel connection where it can be, in the HTTP pipeline otherwise.</summary>
public static class SocketHosting
{
    /// <summary>The socket endpoint's services (section <c>Switchboard:WebSockets</c>) and, when on, the connection-level upgrade.</summary>
    public static IHostApplicationBuilder AddSwitchboardSockets(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SocketOptions>().BindConfiguration(SocketOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        // Kestrel's socket continuations stay on the thread pool (no UnsafePreferInlineScheduling): a socket's frame
        // handler calls grains, and Orleans pools each call's completion source per thread (a Stack per thread,
        // unbounded). A call made on an I/O thread takes a new one there and returns it to a pool thread's stack,
        // where it stays: with inline scheduling a silo kept an object per message sent (docs/performance.md).
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<SiloHostOptions>>((kestrel, silo) =>
        {
            if (silo.Value.ConnectionLevelSockets)
            {
                kestrel.ConfigureEndpointDefaults(listen => listen.Use(next =>
                {
                    var upgrade = listen.ApplicationServices.GetRequiredService<ConnectionUpgrade>();
                    return connection => upgrade.OnConnectionAsync(connection, next);
                }));
            }
        });

        services.AddSingleton<SocketRequestHandler>();
        services.AddSingleton<WebSocketEndpoint>();
        services.AddSingleton<ConnectionUpgrade>();
        services.AddSingleton<SiloIdentity>();
        return builder;
    }

    /// <summary>
    /// <c>/ws</c> in the HTTP pipeline: upgrades the connection level did not take, and every refusal. Call it after
    /// the forwarded headers (a socket logs its client's address) and before the exception handler and
    /// authentication: an open socket's request keeps every middleware frame it passed through for as long as it is
    /// open, and the endpoint validates its own token (see <see cref="WebSocketEndpoint"/>).
    /// </summary>
    public static IApplicationBuilder UseWebSocketEndpoint(this IApplicationBuilder app)
    {
        app.UseWebSockets();
        var sockets = app.ApplicationServices.GetRequiredService<WebSocketEndpoint>();
        app.Use(next => context => WebSocketEndpoint.IsSocketPath(context.Request.Path.Value) ? sockets.HandleAsync(context) : next(context));
        return app;
    }
}
