using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Switchboard.Cluster.Security.Tokens;
using Switchboard.Gateway.Diagnostics;
using Switchboard.Gateway.Discovery;
using Switchboard.Gateway.Edges;
using Switchboard.Gateway.Endpoints;
using Switchboard.Gateway.Proxy;
using Switchboard.Messaging;
using Switchboard.Telemetry;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Switchboard.Gateway.Hosting;

/// <summary>Composition of the gateway: TLS, discovery, the proxy and its edges, health and diagnostics.</summary>
public static class GatewayHosting
{
    public static WebApplicationBuilder AddSwitchboardGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        // Request lines and proxied URLs carry the query string (?access_token=...): never. Off entirely, hosting
        // also starts no Activity and no logging scope per request, which a proxied socket's request keeps for its
        // whole life (as in the silo). Failures are still logged by Kestrel, YARP and the exception handler.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Routing.EndpointMiddleware", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp.ReverseProxy.Forwarder", LogLevel.Warning);

        var discoverFromCluster = !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Redis"));
        services.AddOptions<GatewayHostOptions>()
            .BindConfiguration(GatewayHostOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => discoverFromCluster || o.Silos.Length > 0,
                $"Set ConnectionStrings:Redis (silos from cluster membership) or {GatewayHostOptions.SectionName}:Silos (a fixed list).")
            .ValidateOnStart();
        services.AddOptions<GatewayInternalTlsOptions>().BindConfiguration(GatewayInternalTlsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HostOptions>().Configure<IOptions<GatewayHostOptions>>((host, gateway) => host.ShutdownTimeout = gateway.Value.ShutdownTimeout);

        var gateway = builder.Configuration.GetSection(GatewayHostOptions.SectionName).Get<GatewayHostOptions>() ?? new GatewayHostOptions();
        GatewayTls.Configure(builder, gateway);

        services.TryAddSingleton(TimeProvider.System);
        if (discoverFromCluster)
        {
            services.AddSingleton<ClusterDirectorySource>();
            services.AddSingleton<ISiloSource>(sp => sp.GetRequiredService<ClusterDirectorySource>());
            services.AddHostedService(sp => sp.GetRequiredService<ClusterDirectorySource>());
        }
        else
        {
            services.AddSingleton<ISiloSource, StaticSiloSource>();
        }

        services.AddSingleton<SiloProxyConfigProvider>();
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<SiloProxyConfigProvider>());
        services.AddSingleton<DestinationDiscovery>();
        services.AddHostedService(sp => sp.GetRequiredService<DestinationDiscovery>());
        services.AddSingleton<ProxiedSockets>();
        services.AddHostedService(sp => sp.GetRequiredService<ProxiedSockets>());
        services.AddSingleton<OriginPolicy>();
        if (gateway.ValidateTokens)
        {
            // The silos' binding and rules; no key means no token could pass, which is a misconfiguration, not a mode.
            services.AddTokenValidationOptions()
                .Validate(o => o.HasKeySource, AuthOptions.NoKeyProblem + $" Or set {GatewayHostOptions.SectionName}:ValidateTokens=false to leave tokens to the silos alone.");
            services.AddSingleton(sp => new TokenValidator(
                sp.GetRequiredService<IOptions<AuthOptions>>().Value,
                sp.GetRequiredService<IOptions<AuthOptions>>().Value.ConfiguredSigningKey(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>()));
            services.AddSingleton<TokenGate>();
        }

        services.AddClientLimits();
        services.AddHsts(hsts =>
        {
            // Preload is a commitment for the whole domain that only its owner can make: never by default.
            hsts.MaxAge = gateway.HstsMaxAge;
            hsts.IncludeSubDomains = gateway.HstsIncludeSubDomains;
            hsts.Preload = false;
        });
        services.AddMetrics();
        services.AddSingleton<GatewayMetrics>();

        // Metrics only: the gateway records no spans, and the proxy drops the client's trace headers below, so a client
        // can neither choose a trace id nor force a silo to sample; traces start at the silo. Admin exposure needs a
        // login the gateway does not have.
        builder.AddSwitchboardTelemetry("switchboard-gateway", meters: [GatewayMetrics.MeterName, "Microsoft.Orleans", "System.Net.Http"], activitySources: []);
        services.AddOptions<TelemetryOptions>().Validate(o => o.Prometheus != ScrapeExposure.Admin,
            $"{TelemetryOptions.SectionName}:Prometheus=Admin needs an admin login, which the gateway has none of: use Local with ScrapeNetworks.");

        services.AddReverseProxy().AddTransforms(transforms =>
        {
            foreach (var header in ClientTraceHeaders)
            {
                transforms.AddRequestHeaderRemove(header);
            }
        });
        services.AddSingleton<IForwarderHttpClientFactory, SiloHttpClientFactory>();
        services.AddOptions<TransportFailureRateHealthPolicyOptions>().Configure<IOptions<GatewayHostOptions>>((passive, gateway) =>
        {
            // A few failed forwards are enough: after a kill every reconnect to that silo fails at once. YARP
            // reactivates no sooner than the detection window ends, so the window is the reactivation period.
            passive.DetectionWindowSize = gateway.Value.ReactivationPeriod;
            passive.MinimalTotalCountThreshold = 3;
        });

        services.AddGatewayHealthChecks();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions.TryAdd("code", (context.ProblemDetails.Status ?? 500) >= 500 ? ProtocolError.Unavailable.ToWire() : ProtocolError.BadRequest.ToWire()));
        return builder;
    }

    /// <summary>The W3C and legacy trace context headers a client might send; never forwarded to a silo.</summary>
    public static readonly string[] ClientTraceHeaders = ["traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context"];

    public static WebApplication MapSwitchboardGateway(this WebApplication app)
    {
        app.Services.GetRequiredService<GatewayMetrics>();
        if (app.Services.GetService<GatewayTls>() is { } tls)
        {
            GatewayLog.SelfSignedCertificate(app.Logger, app.Services.GetRequiredService<IOptions<GatewayHostOptions>>().Value.HttpsUrl, tls.SelfSignedCertificate.Thumbprint);
        }

        app.UseExceptionHandler();

        // On every https response, health and refusals included: probes ignore it, browsers learn it from any. Not for
        // localhost and loopback addresses (ASP.NET Core's excluded hosts), where it would stick to other local apps.
        if (app.Services.GetRequiredService<IOptions<GatewayHostOptions>>().Value.HstsMaxAge > TimeSpan.Zero)
        {
            app.UseHsts();
        }

        // Before the proxy: a refused request never opens a connection to a silo.
        app.UseRateLimiter();
        app.MapHealthEndpoints();
        app.MapScrapeEndpoint(adminPolicy: null);
        if (!app.Services.GetRequiredService<IOptions<GatewayHostOptions>>().Value.RouteDevTokens)
        {
            // More specific than the /api catch-all, so it wins: dev tokens never pass the front door unless configured.
            app.Map(GatewayRoutes.DevTokensPath, context => Problems.Write(context, ProtocolError.NotFound, "Dev tokens are not served here."));
        }

        var origins = app.Services.GetRequiredService<OriginPolicy>();
        var tokens = app.Services.GetService<TokenGate>();
        if (tokens is null)
        {
            GatewayLog.TokenValidationOff(app.Logger);
        }

        var sockets = app.Services.GetRequiredService<ProxiedSockets>();
        app.MapReverseProxy(proxy =>
        {
            proxy.Use(async (context, next) =>
            {
                var proxied = context.GetReverseProxyFeature();
                if (proxied.Route.Config.RouteId == GatewayRoutes.SocketRouteId)
                {
                    // The Origin first (403): a string compare, so another site's page costs no signature check. Then the
                    // token (401). REST and the dashboard are the silos' to check.
                    if (!await origins.CheckAsync(context) || (tokens is not null && !await tokens.CheckAsync(context)))
                    {
                        return;
                    }
                }

                if (proxied.AvailableDestinations.Count == 0)
                {
                    await Problems.Write(context, ProtocolError.Unavailable, "No silo is available yet; retry shortly.");
                    return;
                }

                if (ProxiedSockets.IsUpgrade(context))
                {
                    await sockets.TrackAsync(context, () => next(context));
                    return;
                }

                await next(context);
            });
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }
}
