using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Auth;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Diagnostics;
using Switchboard.Silo.Endpoints;
using Switchboard.Silo.Hosting;

namespace Switchboard.Silo.WebSockets;

/// <summary><c>/ws</c>: authenticates the upgrade, registers the socket with the cluster, then runs it.</summary>
public static class WebSocketEndpoint
{
    public static IEndpointConventionBuilder MapWebSocketEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.Map("/ws", HandleAsync).RequireAuthorization();

    private static async Task HandleAsync(
        HttpContext context,
        ConnectionRouter router,
        SocketRequestHandler handler,
        SiloIdentity silo,
        DrainState drain,
        IOptions<SocketOptions> socketOptions,
        SwitchboardMetrics metrics,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        var options = socketOptions.Value;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Problems.Write(context, ErrorCode.BadRequest, "GET /ws expects a WebSocket upgrade.");
            return;
        }

        if (!IsOriginAllowed(context, options))
        {
            await Problems.Write(context, ErrorCode.Forbidden, "This Origin may not open sockets here.");
            return;
        }

        if (drain.IsDraining)
        {
            await Problems.Write(context, ErrorCode.Unavailable, "This node is shutting down; connect to another.");
            return;
        }

        if (!TokenClaims.TryGetCaller(context.User, out var caller))
        {
            await Problems.Write(context, ErrorCode.Unauthorized, "The token's 'sub' is not a valid user id.");
            return;
        }

        var logger = loggerFactory.CreateLogger("Switchboard.Silo.WebSockets");
        var session = new WebSocketSession(ConnectionId.New(), caller, options, metrics, logger);

        // Queued first, so it is the first frame whatever deliveries arrive once the socket is registered.
        session.TrySend(ServerFrames.Welcome(caller.User.Value, session.Id.Value, silo.Name));
        try
        {
            await router.AttachAsync(session, options.MaxConnectionsPerUser);
        }
        catch (Exception exception)
        {
            var (code, message) = ErrorMapping.ToError(exception);
            ConnectionLog.Refused(logger, session.Id.Value, caller.User.Value, message);
            await Problems.Write(context, code, message);
            return;
        }

        // The request, headers included, lives as long as the socket: it has no more use for the bearer token.
        context.Request.Headers.Authorization = default;
        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = options.KeepAliveInterval,
                KeepAliveTimeout = options.KeepAliveTimeout,
            });

            // The client's address: X-Forwarded-For counts only from a trusted proxy (Switchboard:Silo:TrustedProxies).
            ConnectionLog.Opened(logger, session.Id.Value, caller.User.Value, caller.Role, context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            using var drainRegistration = drain.Register(session);
            using var expiry = TokenExpiry.Start(context.User, session, time);
            var limiter = new RateLimiter(options.RateLimitPerSecond, options.RateLimitBurst, time);
            await session.RunAsync(socket, (s, frame) => handler.HandleAsync(s, frame, limiter), context.RequestAborted);
        }
        finally
        {
            await router.DetachAsync(session);
        }
    }

    private static bool IsOriginAllowed(HttpContext context, SocketOptions options)
    {
        if (options.AllowedOrigins.Length == 0)
        {
            return true;
        }

        var origin = context.Request.Headers.Origin.ToString();
        return origin.Length == 0 || options.AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase);
    }
}
