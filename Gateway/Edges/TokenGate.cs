using Switchboard.Cluster.Security.Tokens;
using Switchboard.Gateway.Diagnostics;
using Switchboard.Gateway.Endpoints;
using Switchboard.Messaging;

namespace Switchboard.Gateway.Edges;

/// <summary>
/// The bearer token of <c>/ws</c>, checked before proxying with the silos' own rules (<see cref="TokenValidator"/>,
/// from the same <c>Switchboard:Auth</c> settings): a socket without a valid token is answered 401 here and never
/// costs a silo a connection. A valid token is forwarded unchanged; the silo checks it again (and what only it knows).
/// </summary>
public sealed class TokenGate(TokenValidator validator, GatewayMetrics metrics, ILogger<TokenGate> logger)
{
    public const string Missing = "missing";
    public const string Invalid = "invalid";

    /// <summary>Writes 401 and returns false when the request carries no valid token.</summary>
    public async Task<bool> CheckAsync(HttpContext context)
    {
        var request = context.Request;

        // The silo's rule: the Authorization header when there is one, else access_token from the query.
        var token = request.Headers.Authorization.Count == 0
            ? BearerTokens.Read(null, request.Query[BearerTokens.QueryParameter])
            : BearerTokens.Read(request.Headers.Authorization.ToString(), fromQuery: null);
        var check = await validator.CheckAsync(token);
        if (check.IsValid)
        {
            return true;
        }

        var reason = string.IsNullOrEmpty(token) ? Missing : Invalid;
        metrics.Unauthorized(reason);
        GatewayLog.TokenRefused(logger, ClientLimits.Address(context), check.Failure ?? reason);
        await Problems.Write(context, ProtocolError.Unauthorized, "A valid bearer token is required.");
        return false;
    }
}
