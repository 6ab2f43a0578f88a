using Microsoft.Extensions.DependencyInjection.Extensions;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Switchboard.Connections;
using Switchboard.Grains.Conversations;
using Switchboard.Grains.Hosting;
using Switchboard.Messaging;
using Switchboard.Silo.Auth;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Conversations;
using Switchboard.Silo.Diagnostics;
using Switchboard.Silo.Endpoints;
using Switchboard.Silo.WebSockets;

namespace Switchboard.Silo.Hosting;

/// <summary>Composition of a silo host: Orleans, sockets, REST, auth, health and diagnostics.</summary>
public static class SiloHosting
{
    public static WebApplicationBuilder AddSwitchboardSilo(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        // ASP.NET Core logs request lines with their query string (?access_token=...): never. Off entirely, hosting
        // also starts no Activity and no logging scope per request, which an open socket's request would keep
        // (measured: 0.7 KiB per idle socket). Failures are still logged by Kestrel and the exception handler.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Routing.EndpointMiddleware", LogLevel.Warning);

        services.AddOptions<SiloHostOptions>().BindConfiguration(SiloHostOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.TrustedProxies.All(p => IPAddress.TryParse(p, out _)), $"{SiloHostOptions.SectionName}:TrustedProxies must be IP addresses.")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<SiloHostOptions>>((forwarded, silo) =>
        {
            // The client's address and scheme as the gateway saw them, believed from the configured gateways only
            // (ASP.NET Core's defaults would trust any loopback sender). With no trusted proxy nothing is
            // applied: the middleware checks senders only while its lists are non-empty, and trusts all otherwise.
            forwarded.ForwardedHeaders = silo.Value.TrustedProxies.Length == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in silo.Value.TrustedProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });
        // Kestrel's socket continuations stay on the thread pool (no UnsafePreferInlineScheduling): a socket's frame
        // handler calls grains, and Orleans pools each call's completion source per thread (a Stack per thread,
        // unbounded). A call made on an I/O thread takes a new one there and returns it to a pool thread's stack,
        // where it stays: with inline scheduling a silo kept one 64-byte object per message sent (README "Performance").
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
        services.AddOptions<SocketOptions>().BindConfiguration(SocketOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RoutingOptions>().BindConfiguration(RoutingOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.RegistrationLifetime > o.RenewalPeriod * 2, $"{RoutingOptions.SectionName}:RegistrationLifetime must exceed twice RenewalPeriod.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSwitchboardConnections();
        services.AddSingleton<SocketRequestHandler>();
        services.AddSingleton<WebSocketEndpoint>();
        services.AddSingleton<ConnectionUpgrade>();
        services.AddSingleton<ConversationReader>();
        services.AddSingleton<SiloIdentity>();
        services.AddSwitchboardAuthentication();
        services.AddSwitchboardHealthChecks();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            context.ProblemDetails.Extensions.TryAdd("code", CodeOf(status));
        });
        services.Configure<JsonOptions>(options => options.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull);

        var silo = builder.Configuration.GetSection(SiloHostOptions.SectionName).Get<SiloHostOptions>() ?? new SiloHostOptions();
        builder.UseOrleans(siloBuilder =>
        {
            var siloPort = silo.SiloPort == 0 ? FreePort() : silo.SiloPort;
            var gatewayPort = silo.GatewayPort == 0 ? FreePort() : silo.GatewayPort;
            ClusterProviders.Configure(siloBuilder, builder.Configuration, silo, siloPort, gatewayPort);
            siloBuilder.Configure<SiloOptions>(o => o.SiloName = silo.Name ?? $"{Environment.MachineName}-{siloPort}");

            // Membership entries carry no HTTP address: publish ours for the gateway (IClusterDirectoryGrain).
            siloBuilder.UseSiloMetadata(new Dictionary<string, string>
            {
                [Switchboard.Cluster.SiloMetadataKeys.HttpEndpoint] = ResolveHttpEndpoint(builder.Configuration, silo),
            });
            if (silo.Dashboard)
            {
                siloBuilder.AddDashboard();
            }
        });

        // Registered after the silo so it stops before it (hosted services stop in reverse order): sockets
        // are closed with 1012 and detached while the silo can still take the calls.
        services.AddSingleton<OpenSockets>();
        services.AddSingleton<DrainState>();
        services.AddHostedService(sp => sp.GetRequiredService<DrainState>());
        return builder;
    }

    /// <summary>
    /// What a bare Orleans silo (a TestCluster silo, the benchmark's in-process cluster) needs to host the
    /// grains and this silo's sockets, with in-memory storage and the given shared log.
    /// </summary>
    public static ISiloBuilder AddSwitchboardInMemory(this ISiloBuilder siloBuilder, IMessageLog log)
    {
        siloBuilder.AddMemoryGrainStorage(StorageNames.Grains);
        siloBuilder.Services.AddSingleton(log);
        siloBuilder.Services.TryAddSingleton(TimeProvider.System);
        siloBuilder.Services.AddOptions<RoutingOptions>();
        siloBuilder.Services.AddSwitchboardConnections();
        return siloBuilder;
    }

    public static IServiceCollection AddSwitchboardConnections(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<SwitchboardMetrics>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<SiloConnectionSink>();
        services.AddSingleton<ILocalConnectionSink>(sp => sp.GetRequiredService<SiloConnectionSink>());
        services.AddSingleton<ConnectionRouter>();
        services.AddHostedService(sp => sp.GetRequiredService<ConnectionRouter>());
        return services;
    }

    public static WebApplication MapSwitchboard(this WebApplication app)
    {
        app.UseForwardedHeaders();

        // Sockets first: an open socket's request keeps every middleware frame it passed through (see WebSocketEndpoint).
        app.UseWebSockets();
        var sockets = app.Services.GetRequiredService<WebSocketEndpoint>();
        app.Use(next => context => WebSocketEndpoint.IsSocketPath(context.Request.Path.Value) ? sockets.HandleAsync(context) : next(context));
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHealthEndpoints();
        app.MapChatPage();
        app.MapDevTokenApi();
        app.MapMessagingApi();
        app.MapGroupsApi();
        app.MapUsersApi();
        app.MapClusterApi();
        if (app.Services.GetRequiredService<IOptions<SiloHostOptions>>().Value.Dashboard)
        {
            app.MapOrleansDashboard(routePrefix: "/dashboard").RequireAuthorization(AuthenticationSetup.AdminPolicy);
        }

        return app;
    }

    /// <summary>The configured HTTP endpoint, or the first listen URL with a wildcard or loopback name made concrete.</summary>
    internal static string ResolveHttpEndpoint(IConfiguration configuration, SiloHostOptions silo)
    {
        if (!string.IsNullOrWhiteSpace(silo.HttpEndpoint))
        {
            return silo.HttpEndpoint.TrimEnd('/');
        }

        var first = (configuration["urls"] ?? "http://localhost:5000").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        var uri = new UriBuilder(first.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::" or "localhost")
        {
            uri.Host = silo.AdvertisedAddress;
        }

        return uri.Uri.GetLeftPart(UriPartial.Authority);
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
