using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Switchboard.Cluster.Security.Tokens;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Endpoints;

namespace Switchboard.Silo.Auth;

/// <summary>JWT bearer authentication for REST and the dashboard (admin only); <c>/ws</c> validates with the same parameters itself.</summary>
public static class AuthenticationSetup
{
    public const string AdminPolicy = "admin";
    private const string DashboardCookie = "sb_dashboard";
    private const string ForwardedProto = "X-Forwarded-Proto";

    /// <summary>The answer to a revoked token, on every path that takes one.</summary>
    public const string RevokedMessage = "This token was revoked: sign in again for a new one.";

    public static IServiceCollection AddSwitchboardAuthentication(this IServiceCollection services)
    {
        // The validation settings are the gateway's too. The silo's rules across both live on DevTokenOptions only:
        // rules both ways would have each options' first read validate by reading the other's, for ever.
        services.AddTokenValidationOptions();
        services.AddOptions<DevTokenOptions>()
            .BindConfiguration(DevTokenOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate<IHostEnvironment>((o, environment) => !(o.DevTokens && environment.IsProduction()),
                $"{AuthOptions.SectionName}:DevTokens is on and the environment is Production: POST /api/dev/token would mint an admin token for anyone. Turn it off, or run with ASPNETCORE_ENVIRONMENT set to Development or another non-Production name.")
            // A silo may run without a key only to serve dev tokens (then it makes one).
            .Validate<IOptions<AuthOptions>>((dev, auth) => dev.DevTokens || auth.Value.HasKeySource, AuthOptions.NoKeyProblem + " Or turn dev tokens on, outside Production.")
            .Validate<IOptions<AuthOptions>>((dev, auth) => !dev.DevTokens || dev.DevTokenLifetime <= auth.Value.MaxTokenLifetime,
                $"{AuthOptions.SectionName}:DevTokenLifetime is longer than {AuthOptions.SectionName}:MaxTokenLifetime: dev tokens would be refused.")
            .ValidateOnStart();
        services.AddSingleton<TokenService>();
        services.AddSingleton(sp => sp.GetRequiredService<TokenService>().Validator);

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenValidator>((options, tokens) =>
            {
                options.MapInboundClaims = false;

                // Nothing reads the token back from the authentication properties (GetTokenAsync), and a socket would keep it.
                options.SaveToken = false;
                options.TokenValidationParameters = tokens.ValidationParameters;

                // The handler the socket path validates with: one set of rules (lifetime, claim shapes) for REST,
                // the dashboard and /ws.
                options.TokenHandlers.Clear();
                options.TokenHandlers.Add(tokens.Handler);
                options.Events = new JwtBearerEvents
                {
                    OnMessageReceived = ReadBrowserToken,

                    // A socket keeps its upgrade request, and with it this principal, for as long as it is open:
                    // keep the protocol's claims, not the parsed token with every claim it carries.
                    OnTokenValidated = async context =>
                    {
                        if (await IsRevokedAsync(context))
                        {
                            context.Fail(RevokedMessage);
                            return;
                        }

                        context.Principal = TokenClaims.KeepProtocolClaims(context.Principal!);
                        context.Properties = new AuthenticationProperties();
                        KeepDashboardToken(context);
                    },
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        await Problems.Write(
                            context.HttpContext,
                            ProtocolError.Unauthorized,
                            context.AuthenticateFailure?.Message == RevokedMessage ? RevokedMessage : "A valid bearer token is required.");
                    },
                    OnForbidden = context => Problems.Write(context.HttpContext, ProtocolError.Forbidden, "This needs the admin role."),
                };
            });

        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireClaim(TokenClaims.Role, Caller.AdminRole));
        return services;
    }

    /// <summary>Whether an administrator revoked the token (checked before the dashboard keeps it in a cookie).</summary>
    private static async ValueTask<bool> IsRevokedAsync(TokenValidatedContext context)
    {
        if (!UserId.TryParse(context.Principal?.FindFirst(TokenClaims.Subject)?.Value, out var user))
        {
            return false;
        }

        var issuedAt = context.SecurityToken is JsonWebToken { IssuedAt: var at } && at != DateTime.MinValue
            ? new DateTimeOffset(at, TimeSpan.Zero)
            : (DateTimeOffset?)null;
        return await context.HttpContext.RequestServices.GetRequiredService<TokenRevocations>().IsRevokedAsync(user, issuedAt);
    }

    /// <summary>
    /// Browsers cannot set headers on a WebSocket or a page load: the dashboard takes <c>access_token</c> once from
    /// the query, and once it is validated keeps it in a cookie for its own requests (<see cref="KeepDashboardToken"/>).
    /// (<c>/ws</c> reads its token itself, see <c>WebSocketEndpoint</c>.)
    /// </summary>
    private static Task ReadBrowserToken(MessageReceivedContext context)
    {
        var request = context.Request;
        if (request.Headers.Authorization.Count > 0)
        {
            return Task.CompletedTask;
        }

        if (request.Path.StartsWithSegments("/dashboard"))
        {
            var fromQuery = request.Query["access_token"].ToString();
            if (fromQuery.Length > 0)
            {
                context.Token = fromQuery;
                context.HttpContext.Items[DashboardCookie] = fromQuery;
            }
            else if (request.Cookies.TryGetValue(DashboardCookie, out var fromCookie))
            {
                context.Token = fromCookie;
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// A dashboard token that came in the query, now validated and an admin's, goes into the cookie: never one that failed. HttpOnly
    /// (no script reads it), SameSite=Strict (no other site sends it), and Secure whenever the client's scheme is
    /// https, also behind a gateway whose forwarded headers this silo does not trust (it only makes the cookie stricter).
    /// </summary>
    private static void KeepDashboardToken(TokenValidatedContext context)
    {
        // Only a token that opens the dashboard: anyone else's would ride along with every /dashboard request for nothing.
        if (context.HttpContext.Items[DashboardCookie] is not string token || context.Principal?.HasClaim(TokenClaims.Role, Caller.AdminRole) != true)
        {
            return;
        }

        var request = context.Request;
        context.Response.Cookies.Append(DashboardCookie, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = request.IsHttps || OriginalSchemeIsHttps(request),
            Path = "/dashboard",
        });
    }

    /// <summary>The client's scheme as the first proxy recorded it (the first entry of <c>X-Forwarded-Proto</c>).</summary>
    private static bool OriginalSchemeIsHttps(HttpRequest request)
    {
        var forwarded = request.Headers[ForwardedProto].ToString();
        var first = forwarded.AsSpan(0, forwarded.IndexOf(',') is >= 0 and var comma ? comma : forwarded.Length).Trim();
        return first.Equals("https", StringComparison.OrdinalIgnoreCase);
    }
}
