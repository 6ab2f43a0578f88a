using Microsoft.Extensions.Options;
using Switchboard.Gateway.Diagnostics;
using Switchboard.Gateway.Endpoints;
using Switchboard.Gateway.Hosting;
using Switchboard.Messaging;

namespace Switchboard.Gateway.Edges;

/// <summary>
/// The Origin allow list of <c>/ws</c>, applied before proxying: a page from another site cannot open a
/// socket with the user's cookies or tokens. Requests without Origin (apps, not browsers) pass.
/// </summary>
public sealed class OriginPolicy(IOptions<GatewayHostOptions> options, ILogger<OriginPolicy> logger)
{
    private readonly HashSet<string> _allowed = new(options.Value.AllowedOrigins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);

    public bool IsAllowed(HttpContext context)
    {
        if (_allowed.Count == 0)
        {
            return true;
        }

        var origin = context.Request.Headers.Origin.ToString();
        return origin.Length == 0 || _allowed.Contains(origin);
    }

    /// <summary>Writes 403 and returns false when the request's Origin is not allowed.</summary>
    public async Task<bool> CheckAsync(HttpContext context)
    {
        if (IsAllowed(context))
        {
            return true;
        }

        GatewayLog.OriginRefused(logger, context.Request.Headers.Origin.ToString());
        await Problems.Write(context, ProtocolError.Forbidden, "This Origin may not open sockets here.");
        return false;
    }
}
