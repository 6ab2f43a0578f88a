using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Switchboard.Telemetry;

/// <summary>
/// Metrics and traces through OpenTelemetry, shared by the silos and the gateway: a Prometheus scrape endpoint
/// (<see cref="TelemetryOptions.Prometheus"/>), OTLP export when the standard <c>OTEL_EXPORTER_OTLP_*</c> endpoint is set,
/// and sampled traces.
/// </summary>
public static class TelemetryHosting
{
    /// <summary>The .NET runtime's and ASP.NET Core's own meters, worth scraping beside the host's.</summary>
    public static readonly string[] PlatformMeters = ["System.Runtime", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];

    /// <summary>
    /// Registers the meter provider (when anything reads it) and, when traces are on, the tracer provider with the
    /// ASP.NET Core server spans, <paramref name="activitySources"/> and the scrubber that keeps ids out of exported spans.
    /// With no <paramref name="activitySources"/> the host records no spans whatever the settings say.
    /// </summary>
    public static IHostApplicationBuilder AddSwitchboardTelemetry(this IHostApplicationBuilder builder, string serviceName, IEnumerable<string> meters, IEnumerable<string> activitySources)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.NetworksParse(), $"{TelemetryOptions.SectionName}:ScrapeNetworks must be CIDR networks, e.g. 10.0.3.0/24.")
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var otlpMetrics = OtlpConfigured(builder.Configuration, "METRICS");
        var otlpTraces = OtlpConfigured(builder.Configuration, "TRACES");
        // A host with no sources of its own (the gateway) records no spans at all.
        var sources = activitySources.ToArray();
        var traces = sources.Length > 0 && TracesOn(builder.Configuration);
        var scrape = options.Prometheus != ScrapeExposure.Off;

        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(serviceName));
        if (scrape || otlpMetrics)
        {
            // No provider at all otherwise: an instrument nobody listens to costs one branch per measurement.
            telemetry.WithMetrics(metrics =>
            {
                metrics.AddMeter([.. meters, .. PlatformMeters]);
                if (scrape)
                {
                    metrics.AddPrometheusExporter();
                }

                if (otlpMetrics)
                {
                    metrics.AddOtlpExporter();
                }
            });
        }

        if (traces)
        {
            var quiet = new[] { "/ws", "/health", options.ScrapePath };
            telemetry.WithTracing(tracing =>
            {
                // Parent-based: a trace a caller records stays whole; new traces are sampled at the ratio.
                tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.TraceSampleRatio)));
                tracing.AddSource(sources);
                tracing.AddAspNetCoreInstrumentation(aspNetCore =>
                {
                    // A socket's request lasts as long as the socket; probes and scrapes are noise.
                    aspNetCore.Filter = context => !quiet.Any(p => context.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));
                });

                // Before any exporter: processors run in the order they were added.
                tracing.AddProcessor(new SpanScrubber());
                if (otlpTraces)
                {
                    tracing.AddOtlpExporter();
                }
            });
        }

        builder.Services.AddSingleton(new TelemetryStatus(options.Prometheus, otlpMetrics, traces, otlpTraces));
        return builder;
    }

    /// <summary>Whether traces are recorded: <see cref="TelemetryOptions.Traces"/>, or by default when an OTLP endpoint for them is set.</summary>
    public static bool TracesOn(IConfiguration configuration) =>
        configuration.GetValue<bool?>($"{TelemetryOptions.SectionName}:{nameof(TelemetryOptions.Traces)}") ?? OtlpConfigured(configuration, "TRACES");

    /// <summary>
    /// The scrape endpoint, guarded as <see cref="TelemetryOptions.Prometheus"/> says; nothing when it is off.
    /// <paramref name="adminPolicy"/> is the host's admin authorization policy (null where there is none).
    /// </summary>
    public static IEndpointRouteBuilder MapScrapeEndpoint(this IEndpointRouteBuilder endpoints, string? adminPolicy)
    {
        var services = endpoints.ServiceProvider;
        var options = services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        var status = services.GetRequiredService<TelemetryStatus>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Switchboard.Telemetry");
        var otlpMetrics = status.OtlpMetrics ? "on" : "off (no OTEL_EXPORTER_OTLP_ENDPOINT)";
        TelemetryLog.Metrics(logger, options.ScrapePath, options.Prometheus, options.ScrapeNetworks.Length == 0 ? "none" : string.Join(", ", options.ScrapeNetworks), otlpMetrics);
        TelemetryLog.Traces(logger, status.Traces ? "on" : "off", options.TraceSampleRatio, status.OtlpTraces ? "on" : "off");

        switch (options.Prometheus)
        {
            case ScrapeExposure.Off:
                break;
            case ScrapeExposure.Admin when adminPolicy is null:
                throw new InvalidOperationException($"{TelemetryOptions.SectionName}:Prometheus=Admin needs an admin login, which this host has none of: use Local with ScrapeNetworks.");
            case ScrapeExposure.Admin:
                endpoints.MapPrometheusScrapingEndpoint(options.ScrapePath).RequireAuthorization(adminPolicy);
                break;
            case ScrapeExposure.Local:
                var access = new ScrapeAccess(options.ScrapeNetworks);
                endpoints.MapPrometheusScrapingEndpoint(options.ScrapePath, meterProvider: null, configureBranchedPipeline: pipeline => pipeline.Use(async (context, next) =>
                {
                    if (!access.Allows(context.Connection.RemoteIpAddress))
                    {
                        context.Response.StatusCode = StatusCodes.Status403Forbidden;
                        return;
                    }

                    await next(context);
                }), optionsName: null);
                break;
            default:
                TelemetryLog.OpenScrape(logger, options.ScrapePath);
                endpoints.MapPrometheusScrapingEndpoint(options.ScrapePath);
                break;
        }

        return endpoints;
    }

    // The standard variables the OTLP exporter itself reads: the common endpoint, or the signal's own.
    private static bool OtlpConfigured(IConfiguration configuration, string signal) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]) ||
        !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);
}

/// <summary>What <see cref="TelemetryHosting.AddSwitchboardTelemetry"/> turned on.</summary>
internal sealed record TelemetryStatus(ScrapeExposure Prometheus, bool OtlpMetrics, bool Traces, bool OtlpTraces);
