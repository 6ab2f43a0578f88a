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

/// <summary>
/// <c>/ws</c>: authenticates the upgrade, registers the socket with the cluster, then runs it. A middleware near
/// the front of the pipeline rather than a routed endpoint: the upgraded request lives as long as the socket,
/// and everything on its way (the authentication and authorization handlers with their principal, the
/// exception and status-code pages' frames, a DI scope, routing) would live as long, for every idle socket.
/// It validates the bearer token itself, with the JWT scheme's parameters and answers.
/// </summary>
public sealed class WebSocketEndpoint(
    RequestDelegate next,
    ConnectionRouter router,
    SocketRequestHandler handler,
    SiloIdentity silo,
    DrainState drain,
    TokenService tokens,
    IOptions<SocketOptions> socketOptions,
    SwitchboardMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggerFactory)
{
    public static readonly PathString Path = "/ws";

    private readonly ILogger _logger = loggerFactory.CreateLogger("Switchboard.Silo.WebSockets");

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        return path.StartsWithSegments(Path, out var rest) && (!rest.HasValue || rest.Value == "/")
            ? HandleAsync(context)
            : next(context);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var options = socketOptions.Value;
        var token = await tokens.ValidateAsync(ReadToken(context.Request));
        if (token is null)
        {
            await Problems.Write(context, ErrorCode.Unauthorized, "A valid bearer token is required.");
            return;
        }

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

        if (!UserId.TryParse(token.Subject, out var user))
        {
            await Problems.Write(context, ErrorCode.Unauthorized, "The token's 'sub' is not a valid user id.");
            return;
        }

        var caller = new Caller(user, token.Role ?? string.Empty);
        var session = new WebSocketSession(ConnectionId.New(), caller, options, metrics, _logger);

        // Queued first, so it is the first frame whatever deliveries arrive once the socket is registered.
        session.TrySend(ServerFrames.Welcome(caller.User.Value, session.Id.Value, silo.Name));
        try
        {
            await router.AttachAsync(session, options.MaxConnectionsPerUser);
        }
        catch (Exception exception)
        {
            var (code, message) = ErrorMapping.ToError(exception);
            ConnectionLog.Refused(_logger, session.Id.Value, caller.User.Value, message);
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
            ConnectionLog.Opened(_logger, session.Id.Value, caller.User.Value, caller.Role, context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            using var drainRegistration = drain.Register(session);
            using var expiry = token.Expires is { } expires ? TokenExpiry.Start(expires, session, time) : null;
            var limiter = new RateLimiter(options.RateLimitPerSecond, options.RateLimitBurst, time);
            await session.RunAsync(socket, (s, frame) => handler.HandleAsync(s, frame, limiter), context.RequestAborted);
        }
        finally
        {
            await router.DetachAsync(session);
        }
    }

    /// <summary>
    /// The bearer token: from <c>Authorization: Bearer</c>, or, when there is no <c>Authorization</c> header, from
    /// <c>access_token</c> in the query (browsers cannot set headers on a WebSocket).
    /// </summary>
    private static string? ReadToken(HttpRequest request)
    {
        const string Scheme = "Bearer ";
        var authorization = request.Headers.Authorization;
        if (authorization.Count == 0)
        {
            return request.Query["access_token"];
        }

        var value = authorization.ToString();
        return value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? value[Scheme.Length..].Trim() : null;
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
