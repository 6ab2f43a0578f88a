using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Switchboard.Cluster.Security.Tokens;
using Switchboard.Grains.Conversations;
using Switchboard.Messaging;
using Switchboard.Silo.Auth;
using Switchboard.Silo.Endpoints;

namespace Switchboard.Silo.Hosting;

/// <summary>What the REST endpoints share: bearer authentication, problem details for every error, and JSON.</summary>
public static class ApiHosting
{
    public static IHostApplicationBuilder AddSwitchboardApi(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSwitchboardAuthentication();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            context.ProblemDetails.Extensions.TryAdd("code", CodeOf(status));
        });
        services.Configure<JsonOptions>(options => options.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull);
        services.AddOptions<RestOptions>().BindConfiguration(RestOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RestOptions>>((limiter, rest) =>
        {
            var perSecond = rest.Value.RequestsPerUserPerSecond;
            var burst = rest.Value.RequestsPerUserBurst;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                perSecond > 0 && context.User.FindFirst(TokenClaims.Subject)?.Value is { } user
                    ? RateLimitPartition.GetTokenBucketLimiter(user, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = burst,
                        TokensPerPeriod = Math.Max(1, (int)Math.Ceiling(perSecond / 10)),
                        ReplenishmentPeriod = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(perSecond / 10)) / perSecond),
                        QueueLimit = 0,
                    })

                    // Anonymous requests (health, the page, dev tokens) and sockets: the gateway's per-address limits.
                    : RateLimitPartition.GetNoLimiter(string.Empty));
            limiter.OnRejected = async (context, _) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "1";
                await Problems.Write(context.HttpContext, ProtocolError.RateLimited, $"Over {perSecond:0.##} requests per second for this user; slow down.");
            };
        });
        return builder;
    }

    /// <summary>The header REST replies carry the log's epoch in (as <c>welcome</c> does on a socket).</summary>
    public const string EpochHeader = "Switchboard-Epoch";

    /// <summary>Every <c>/api</c> reply says the log's epoch, so a REST-only client learns of a restore too.</summary>
    public static IApplicationBuilder UseLogEpochHeader(this IApplicationBuilder app)
    {
        var epoch = app.ApplicationServices.GetRequiredService<ILogEpoch>();
        return app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api"))
            {
                context.Response.Headers[EpochHeader] = epoch.Epoch;
            }

            return next(context);
        });
    }

    private static string CodeOf(int status) => status switch
    {
        401 => ProtocolError.Unauthorized.ToWire(),
        403 => ProtocolError.Forbidden.ToWire(),
        404 => ProtocolError.NotFound.ToWire(),
        413 => ProtocolError.TooLarge.ToWire(),
        429 => ProtocolError.RateLimited.ToWire(),
        >= 500 => ProtocolError.Unavailable.ToWire(),
        _ => ProtocolError.BadRequest.ToWire(),
    };
}
