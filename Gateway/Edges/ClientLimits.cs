using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Switchboard.Gateway.Diagnostics;
using Switchboard.Gateway.Endpoints;
using Switchboard.Gateway.Hosting;
using Switchboard.Messaging;

namespace Switchboard.Gateway.Edges;

/// <summary>
/// Per-client-address limits at the front door, on ASP.NET Core's rate limiter: WebSocket upgrades and other
/// requests each from a token bucket, and open sockets by a concurrency limit held for the socket's life. The
/// middleware runs before the proxy, so a refused request never opens a connection to a silo. The address is the
/// connection's: the gateway is the edge, and a header naming another client would be the client's to choose.
/// </summary>
public static class ClientLimits
{
    public const string Requests = "requests";
    public const string Upgrades = "upgrades";
    public const string Sockets = "sockets";

    public static IServiceCollection AddClientLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<GatewayHostOptions>>((limiter, gateway) =>
        {
            var options = gateway.Value;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = OnRejectedAsync;
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context => IsLimitedRequest(context, options)
                    ? RateLimitPartition.GetTokenBucketLimiter(Address(context), _ => Bucket(options.RequestsPerSecond, options.RequestBurst))
                    : RateLimitPartition.GetNoLimiter(string.Empty)),
                PartitionedRateLimiter.Create<HttpContext, string>(context => options.UpgradesPerSecond > 0 && ProxiedSockets.IsUpgrade(context)
                    ? RateLimitPartition.GetTokenBucketLimiter(Address(context), _ => Bucket(options.UpgradesPerSecond, options.UpgradeBurst))
                    : RateLimitPartition.GetNoLimiter(string.Empty)),
                PartitionedRateLimiter.Create<HttpContext, string>(context => options.OpenSocketsPerAddress > 0 && ProxiedSockets.IsUpgrade(context)
                    ? RateLimitPartition.GetConcurrencyLimiter(Address(context), _ => new ConcurrencyLimiterOptions { PermitLimit = options.OpenSocketsPerAddress, QueueLimit = 0 })
                    : RateLimitPartition.GetNoLimiter(string.Empty)));
        });
        return services;
    }

    // Health is for probes and load balancers, which may all sit behind one address: never limited.
    private static bool IsLimitedRequest(HttpContext context, GatewayHostOptions options) =>
        options.RequestsPerSecond > 0 && !ProxiedSockets.IsUpgrade(context) && !context.Request.Path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase);

    private static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    // The empty key is the unlimited partition's; an IPv4 client on a dual-stack socket counts as its IPv4 address.
    internal static string Address(HttpContext context) => context.Connection.RemoteIpAddress switch
    {
        { IsIPv4MappedToIPv6: true } mapped => mapped.MapToIPv4().ToString(),
        { } address => address.ToString(),
        null => IPAddress.None.ToString(),
    };

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;

        // The buckets say when a token comes back; a full set of sockets frees a place whenever one closes.
        var hasRetryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter);
        var limit = !ProxiedSockets.IsUpgrade(context) ? Requests : hasRetryAfter ? Upgrades : Sockets;
        var seconds = hasRetryAfter ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);

        context.RequestServices.GetRequiredService<GatewayMetrics>().Rejected(limit);
        GatewayLog.LimitRefused(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ClientLimits)), Address(context), limit);
        var detail = limit == Sockets ? "Too many open sockets from this address." : $"Too many {limit} from this address; retry after {seconds} s.";
        await Problems.Write(context, ProtocolError.RateLimited, detail);
    }
}
