using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Switchboard.Cluster.Security.Tokens;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Auth;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Diagnostics;
using Switchboard.Silo.Endpoints;
using Switchboard.Silo.Hosting;

namespace Switchboard.Silo.WebSockets;

/// <summary>
/// <c>/ws</c>: authenticates the upgrade, registers the socket with the cluster, then runs it. An upgrade is
/// taken at one of two layers. Usually at the Kestrel connection, before HTTP (<see cref="ConnectionUpgrade"/>):
/// a socket then keeps no HTTP/1.1 connection, request, headers or pipeline state for as long as it is open.
/// Otherwise (an upgrade on a connection that served other requests first, and every refusal, whose answers
/// come from here) as a middleware near the front of the HTTP pipeline: the upgraded request lives as long as
/// the socket, and the authentication and error-page middleware it would have passed would live as long.
/// Either way the bearer token is validated here, with the JWT scheme's parameters.
/// </summary>
public sealed class WebSocketEndpoint(
    ConnectionRouter router,
    SocketRequestHandler handler,
    SiloIdentity silo,
    DrainState drain,
    TokenValidator tokens,
    TokenRevocations revocations,
    ILogEpoch epoch,
    IOptions<SocketOptions> socketOptions,
    SwitchboardMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggerFactory)
{
    public const string HttpLayer = "http";
    public const string ConnectionLayer = "connection";

    private readonly ILogger _logger = loggerFactory.CreateLogger("Switchboard.Silo.WebSockets");

    internal SocketOptions Options => socketOptions.Value;

    internal TokenValidator Tokens => tokens;

    internal ILogger Logger => _logger;

    /// <summary>Whether <paramref name="path"/> is the socket endpoint (<c>/ws</c> or <c>/ws/</c>).</summary>
    public static bool IsSocketPath(ReadOnlySpan<char> path) => path is "/ws" or "/ws/";

    /// <summary>The HTTP pipeline's <c>/ws</c>: every refusal is answered here, as problem details.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var token = await tokens.ValidateAsync(ReadToken(context.Request));
        var refusal = Admit(token, context.WebSockets.IsWebSocketRequest, context.Request.Headers.Origin.ToString(), out var caller);
        if (refusal is { } refused)
        {
            await Problems.Write(context, refused.Code, refused.Message);
            return;
        }

        WebSocketSession session;
        try
        {
            session = await AttachAsync(caller!, token!);
        }
        catch (Exception exception)
        {
            var (code, message) = ErrorMapping.ToError(exception);
            ConnectionLog.Refused(_logger, "-", caller!.User.Value, message);
            await Problems.Write(context, code, message);
            return;
        }

        // The request, headers included, lives as long as the socket: it has no more use for the bearer token.
        context.Request.Headers.Authorization = default;
        var accept = context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = Options.KeepAliveInterval,
            KeepAliveTimeout = Options.KeepAliveTimeout,
        });

        // The client's address: X-Forwarded-For counts only from a trusted proxy (Switchboard:Silo:TrustedProxies).
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        await RunAsync(session, accept, HttpLayer, token!.Expires, remote, context.RequestAborted);
    }

    /// <summary>
    /// Whether a socket may open, in the order the answers are given: a valid token (401), an upgrade request
    /// (400), an allowed Origin (403), a node not draining (503), a user id in <c>sub</c> (401).
    /// </summary>
    internal (ProtocolError Code, string Message)? Admit(BearerToken? token, bool isUpgrade, string origin, out Caller? caller)
    {
        caller = null;
        if (token is null)
        {
            return (ProtocolError.Unauthorized, "A valid bearer token is required.");
        }

        if (!isUpgrade)
        {
            return (ProtocolError.BadRequest, "GET /ws expects a WebSocket upgrade.");
        }

        var allowed = Options.AllowedOrigins;
        if (allowed.Length > 0 && origin.Length > 0 && !allowed.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            return (ProtocolError.Forbidden, "This Origin may not open sockets here.");
        }

        if (drain.IsDraining)
        {
            return (ProtocolError.Unavailable, "This node is shutting down; connect to another.");
        }

        if (!UserId.TryParse(token.Subject, out var user))
        {
            return (ProtocolError.Unauthorized, "The token's 'sub' is not a valid user id.");
        }

        caller = new Caller(user, token.Role ?? string.Empty);
        return null;
    }

    /// <summary>
    /// A session for <paramref name="caller"/>, registered with the cluster (throws when refused: a revoked token,
    /// too many sockets, a backend down).
    /// </summary>
    internal async Task<WebSocketSession> AttachAsync(Caller caller, BearerToken token)
    {
        await ThrowIfRevokedAsync(caller.User, token.IssuedAt);
        var session = new WebSocketSession(ConnectionId.New(), caller, token.IssuedAt, Options, metrics, _logger);

        // Queued first, so it is the first frame whatever deliveries arrive once the socket is registered.
        session.TrySend(ServerFrames.Welcome(caller.User.Value, session.Id.Value, silo.Name, epoch.Epoch));
        await router.AttachAsync(session, Options.MaxConnectionsPerUser);

        // A revocation made while this registration was on its way: its push reached this silo before it asked the
        // user's sockets to close, and this socket was not among them yet.
        if (revocations.IsRevoked(caller.User, token.IssuedAt))
        {
            await router.DetachAsync(session);
            throw Revoked();
        }

        return session;
    }

    /// <summary>Refuses a token that was revoked (<c>unauthorized</c>), as every path that takes a token does.</summary>
    internal async ValueTask ThrowIfRevokedAsync(UserId user, DateTimeOffset? issuedAt)
    {
        if (await revocations.IsRevokedAsync(user, issuedAt))
        {
            throw Revoked();
        }
    }

    private static SwitchboardException Revoked() =>
        new(ProtocolError.Unauthorized, AuthenticationSetup.RevokedMessage);

    /// <summary>Runs an attached session on the socket <paramref name="accept"/> completes with, until it closes; then detaches it.</summary>
    internal async Task RunAsync(WebSocketSession session, Task<WebSocket> accept, string layer, DateTimeOffset? expires, string remote, CancellationToken aborted)
    {
        try
        {
            using var socket = await accept;
            metrics.SocketOpened(layer);
            ConnectionLog.Opened(_logger, session.Id.Value, session.Caller.User.Value, session.Caller.Role, remote);
            drain.Add(session, expires);
            var limiter = new RateLimiter(Options.RateLimitPerSecond, Options.RateLimitBurst, time);
            await session.RunAsync(socket, (s, frame) => handler.HandleAsync(s, frame, limiter), aborted);
        }
        finally
        {
            drain.Remove(session);
            await router.DetachAsync(session);
        }
    }

    /// <summary>The bearer token, by the rule the gateway applies too (<see cref="BearerTokens.Read"/>).</summary>
    internal static string? ReadToken(string? authorization, string? fromQuery) => BearerTokens.Read(authorization, fromQuery);

    private static string? ReadToken(HttpRequest request) =>
        request.Headers.Authorization.Count == 0
            ? request.Query[BearerTokens.QueryParameter]
            : ReadToken(request.Headers.Authorization.ToString(), fromQuery: null);
}
