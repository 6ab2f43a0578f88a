using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Telemetry;

/// <summary>
/// With the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a silo pushes its metrics and its recorded spans to that
/// collector (here a stand-in that keeps what it is sent, OTLP over http/protobuf).
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(TracingCollection.Name)]
public sealed class OtlpExportTests
{
    [Fact]
    public async Task A_silo_exports_Switchboard_and_Orleans_metrics_and_a_recorded_trace_to_the_configured_OTLP_endpoint()
    {
        await using var collector = await Collector.StartAsync();
        await using var silo = new SiloHostFactory(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseAddress.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["Switchboard:Telemetry:TraceSampleRatio"] = "0",
        });
        using var http = new HttpClient { BaseAddress = silo.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages")
        {
            Content = JsonContent.Create(new { to = $"user:{SiloHostFixture.NewId("otlp")}", body = "x", id = "o-1" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint(SiloHostFixture.NewId("otlp")));
        var trace = ActivityTraceId.CreateRandom();
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);

        await Wait.UntilAsync(() => collector.Received("/v1/metrics", "switchboard.connections") && collector.Received("/v1/metrics", "Microsoft.Orleans"),
            "the collector got Switchboard's and Orleans' metrics", TimeSpan.FromSeconds(20));
        await Wait.UntilAsync(() => collector.Received("/v1/traces", "message_log append"),
            "the collector got the append span", TimeSpan.FromSeconds(20));
    }

    /// <summary>An OTLP/HTTP endpoint that keeps every request body by path.</summary>
    private sealed class Collector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _requests = new();

        private Collector(WebApplication app) => _app = app;

        public Uri BaseAddress { get; private set; } = null!;

        public static async Task<Collector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var collector = new Collector(builder.Build());
            collector._app.Run(async context =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                collector._requests.Enqueue((context.Request.Path.Value ?? "", body.ToArray()));
                context.Response.StatusCode = StatusCodes.Status200OK;
            });
            await collector._app.StartAsync();
            collector.BaseAddress = new Uri(collector._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return collector;
        }

        // Names travel as plain UTF-8 strings inside the protobuf.
        public bool Received(string path, string text)
        {
            var needle = Encoding.UTF8.GetBytes(text);
            return _requests.Any(r => r.Path == path && r.Body.AsSpan().IndexOf(needle) >= 0);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
