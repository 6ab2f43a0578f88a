using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using OpenTelemetry.Trace;
using Switchboard.Grains.Conversations;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Telemetry;

/// <summary>
/// A REST send is one trace: the ASP.NET Core server span, the Orleans grain call spans under it and the message log's
/// append span under those, parent by parent; and no span leaves with a user id in it.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(TracingCollection.Name)]
public sealed class TraceTests : IAsyncLifetime
{
    private readonly SpanList _spans = new();
    private SiloHostFactory _silo = null!;

    public Task InitializeAsync()
    {
        // Ratio 0: only a caller's sampled trace is recorded (parent-based), so this test's request is the only one.
        _silo = new SiloHostFactory(
            new Dictionary<string, string?> { ["Switchboard:Telemetry:Traces"] = "true", ["Switchboard:Telemetry:TraceSampleRatio"] = "0" },
            services: services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans)));
        _ = _silo.BaseAddress;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task A_REST_send_is_one_trace_from_the_server_span_through_grain_calls_to_the_log_append()
    {
        var alice = SiloHostFixture.NewId("traced");
        var bob = SiloHostFixture.NewId("traced");
        var trace = ActivityTraceId.CreateRandom();
        using var http = new HttpClient { BaseAddress = _silo.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages")
        {
            Content = JsonContent.Create(new { to = $"user:{bob}", body = new { text = "traced" }, id = "t-1" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint(alice));
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");

        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        Activity[] ours = [];
        await Wait.UntilAsync(() =>
        {
            ours = _spans.Where(s => s.TraceId == trace).ToArray();
            return ours.Any(s => s.Source.Name == "Microsoft.AspNetCore") && ours.Any(IsAppend);
        }, "the server span and the append span are exported");

        var server = Assert.Single(ours, s => s.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal(ActivityKind.Server, server.Kind);
        var append = Assert.Single(ours, IsAppend);
        Assert.Equal("direct", append.GetTagItem("switchboard.conversation.kind"));

        // Walk up from the append: through at least one Orleans grain call, to the server span.
        var bySpan = ours.ToDictionary(s => s.SpanId);
        var path = new List<Activity>();
        for (var span = append; span.ParentSpanId != server.SpanId; span = bySpan[span.ParentSpanId])
        {
            Assert.True(bySpan.ContainsKey(span.ParentSpanId), $"the parent of {span.DisplayName} is exported in the trace");
            path.Add(bySpan[span.ParentSpanId]);
        }

        Assert.Contains(path, s => s.Source.Name == "Microsoft.Orleans.Application" && s.Kind == ActivityKind.Server);
        Assert.Contains(path, s => s.Source.Name == "Microsoft.Orleans.Application" && s.Kind == ActivityKind.Client);

        // Grain ids (user/alice), paths and queries are scrubbed before export.
        foreach (var span in ours)
        {
            foreach (var (key, value) in span.TagObjects)
            {
                var text = value?.ToString() ?? "";
                Assert.False(text.Contains(alice, StringComparison.Ordinal) || text.Contains(bob, StringComparison.Ordinal), $"{span.DisplayName} {key}={text}");
            }

            Assert.DoesNotContain(alice, span.DisplayName, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task With_ratio_0_a_request_that_starts_its_own_trace_records_no_span()
    {
        var alice = SiloHostFixture.NewId("untraced");
        using var http = new HttpClient { BaseAddress = _silo.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages")
        {
            Content = JsonContent.Create(new { to = $"user:{SiloHostFixture.NewId("untraced")}", body = "x", id = "u-1" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint(alice));
        // Server spans only: another test's recorded trace may pass through a message log while this one runs.
        var before = _spans.Count(IsServer);

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before, _spans.Count(IsServer));
    }

    private static bool IsServer(Activity span) => span.Source.Name == "Microsoft.AspNetCore";

    private static bool IsAppend(Activity span) => span.Source.Name == MessageLogTracing.SourceName && span.DisplayName == "message_log append";
}

/// <summary>What the in-memory exporter fills, read while spans still arrive from other threads.</summary>
internal sealed class SpanList : ICollection<Activity>
{
    private readonly List<Activity> _spans = [];

    public int Count
    {
        get
        {
            lock (_spans)
            {
                return _spans.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    public void Add(Activity item)
    {
        lock (_spans)
        {
            _spans.Add(item);
        }
    }

    public void Clear()
    {
        lock (_spans)
        {
            _spans.Clear();
        }
    }

    public bool Contains(Activity item)
    {
        lock (_spans)
        {
            return _spans.Contains(item);
        }
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_spans)
        {
            _spans.CopyTo(array, arrayIndex);
        }
    }

    public bool Remove(Activity item)
    {
        lock (_spans)
        {
            return _spans.Remove(item);
        }
    }

    public IEnumerator<Activity> GetEnumerator()
    {
        lock (_spans)
        {
            return _spans.ToList().GetEnumerator();
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// Tests whose tracer providers record server spans: a provider listens to every host in the process, so they run
/// one after another rather than see each other's recorded requests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TracingCollection
{
    public const string Name = "tracing";
}
