using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Switchboard.Cluster.Security;
using Switchboard.Connections;
using Switchboard.Grains.Conversations;
using Switchboard.Grains.Hosting;
using Switchboard.Silo.Auth;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Conversations;
using Switchboard.Silo.Diagnostics;
using Switchboard.Silo.WebSockets;

namespace Switchboard.Silo.Hosting;

/// <summary>The Orleans silo this process co-hosts: its providers, its link to the local sockets, its drain and dashboard.</summary>
public static class OrleansHosting
{
    /// <summary>
    /// The silo (providers chosen by <see cref="ClusterProviders"/>, section <c>Switchboard:Silo</c>), the services
    /// the sockets and REST use to reach its grains, and the drain that closes sockets before the silo stops.
    /// </summary>
    public static IHostApplicationBuilder AddSwitchboardOrleans(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SiloHostOptions>().BindConfiguration(SiloHostOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.TrustedProxies.All(p => IPAddress.TryParse(p, out _)), $"{SiloHostOptions.SectionName}:TrustedProxies must be IP addresses.")
            .ValidateOnStart();
        services.AddOptions<RoutingOptions>().BindConfiguration(RoutingOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.RegistrationLifetime > o.RenewalPeriod * 2, $"{RoutingOptions.SectionName}:RegistrationLifetime must exceed twice RenewalPeriod.")
            .ValidateOnStart();
        services.AddOptions<LimitOptions>().BindConfiguration(LimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SiloInternalTlsOptions>().BindConfiguration(SiloInternalTlsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSwitchboardGrains();
        services.AddSwitchboardConnections();
        services.AddOptions<HistoryOptions>().BindConfiguration(HistoryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ConversationReader>();
        services.AddSingleton<MessageDeletion>();

        var silo = builder.Configuration.GetSection(SiloHostOptions.SectionName).Get<SiloHostOptions>() ?? new SiloHostOptions();
        var internalTls = builder.Configuration.GetSection(SiloInternalTlsOptions.SectionName).Get<SiloInternalTlsOptions>() ?? new SiloInternalTlsOptions();
        builder.UseOrleans(siloBuilder =>
        {
            var siloPort = silo.SiloPort == 0 ? FreePort() : silo.SiloPort;
            var gatewayPort = silo.GatewayPort == 0 ? FreePort() : silo.GatewayPort;
            ClusterProviders.Configure(siloBuilder, builder.Configuration, silo, siloPort, gatewayPort);
            siloBuilder.Configure<SiloOptions>(o => o.SiloName = silo.Name ?? $"{Environment.MachineName}-{siloPort}");
            siloBuilder.UseInternalTls(internalTls);

            // Membership entries carry no HTTP address: publish ours for the gateway (IClusterDirectoryGrain).
            siloBuilder.UseSiloMetadata(new Dictionary<string, string>
            {
                [Switchboard.Cluster.SiloMetadataKeys.HttpEndpoint] = ResolveHttpEndpoint(builder.Configuration, silo),
            });
            if (silo.Dashboard)
            {
                siloBuilder.AddDashboard();
            }

            // Grain call filters take every call off Orleans' no-filter fast path: only when traces are recorded.
            if (Switchboard.Telemetry.TelemetryHosting.TracesOn(builder.Configuration))
            {
                siloBuilder.AddActivityPropagation();
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
        if (log is ILogEpoch epoch)
        {
            siloBuilder.Services.AddSingleton(epoch);
        }

        siloBuilder.Services.AddSwitchboardGrains();
        siloBuilder.Services.AddSwitchboardConnections();
        return siloBuilder;
    }

    /// <summary>The grains' way to this silo's sockets: the local registry, the sink grains call, the router and the metrics.</summary>
    public static IServiceCollection AddSwitchboardConnections(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<SwitchboardMetrics>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<SiloConnectionSink>();
        services.AddSingleton<ILocalConnectionSink>(sp => sp.GetRequiredService<SiloConnectionSink>());
        services.AddSingleton<ConnectionRouter>();
        services.AddHostedService(sp => sp.GetRequiredService<ConnectionRouter>());
        services.AddSingleton<TokenRevocations>();
        services.AddHostedService(sp => sp.GetRequiredService<TokenRevocations>());
        return services;
    }

    /// <summary>The Orleans Dashboard at <c>/dashboard</c>, admin role only, when <c>Switchboard:Silo:Dashboard</c> is on.</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetRequiredService<IOptions<SiloHostOptions>>().Value.Dashboard)
        {
            endpoints.MapOrleansDashboard(routePrefix: "/dashboard").RequireAuthorization(AuthenticationSetup.AdminPolicy);
        }

        return endpoints;
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
