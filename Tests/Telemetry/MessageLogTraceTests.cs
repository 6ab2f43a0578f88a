using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Telemetry;

/// <summary>
/// On MariaDB, a traced append is followed into its group commit: the commit's span is a child of the first traced
/// append in it and links the others, with the batch size; untraced appends start no commit span.
/// </summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class MessageLogTraceTests(DurableClusterFixture fixture)
{
    private static readonly ActivitySource Caller = new("Switchboard.Tests.Caller");

    [Fact]
    public async Task Appends_in_one_trace_reach_their_commit_span_as_its_parent_or_its_links()
    {
        var cluster = await fixture.CreateClusterAsync();
        await using var _ = cluster;
        var spans = new SpanList();

        // Parent-based over "never": only this test's explicitly recorded trace is recorded, nobody else's.
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(Caller.Name, MessageLogTracing.SourceName)
            .SetSampler(new ParentBasedSampler(new AlwaysOffSampler()))
            .AddInMemoryExporter(spans)
            .Build();
        var options = Options.Create(new MessageLogOptions { ConnectionString = cluster.ConnectionString, MaxBatch = 64, Writers = 1, Retention = TimeSpan.FromDays(1) });
        await using var log = new MariaDbMessageLog(options, NullLogger<MariaDbMessageLog>.Instance);
        var group = ConversationId.ForGroup(new GroupId($"traced-{Guid.NewGuid():N}"));
        Recipient.TryParse(group.Value, out var to);
        var recorded = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

        ActivityTraceId trace;
        using (var send = Caller.StartActivity("send", ActivityKind.Internal, recorded))
        {
            Assert.NotNull(send);
            trace = send.TraceId;
            await Task.WhenAll(Enumerable.Range(1, 8).Select(seq => MessageLogCalls.AppendAsync(log,
                new StoredMessage(group, seq, new UserId("alice"), to, $"r-{seq}-{group.Value}", Encoding.UTF8.GetBytes("{}"), DateTimeOffset.UtcNow)).AsTask()));
        }

        // Untraced: no caller span, so no append span and no commit span.
        await MessageLogCalls.AppendAsync(log, new StoredMessage(group, 9, new UserId("alice"), to, $"r-9-{group.Value}", Encoding.UTF8.GetBytes("{}"), DateTimeOffset.UtcNow));

        var appends = spans.Where(s => s.DisplayName == "message_log append").ToList();
        var commits = spans.Where(s => s.DisplayName == "message_log commit").ToList();
        Assert.Equal(8, appends.Count);
        Assert.All(appends, a => Assert.Equal(trace, a.TraceId));
        Assert.NotEmpty(commits);
        Assert.Equal(8, commits.Sum(c => (int)c.GetTagItem("switchboard.log.commit.messages")!));
        Assert.All(commits, c => Assert.Equal("mariadb", c.GetTagItem("db.system.name")));

        // Every append is the parent of one commit or a link of one, and every commit hangs off an append of the trace.
        var appendIds = appends.Select(a => a.SpanId).ToHashSet();
        Assert.All(commits, c => Assert.Contains(c.ParentSpanId, appendIds));
        var reached = commits.Select(c => c.ParentSpanId).Concat(commits.SelectMany(c => c.Links.Select(l => l.Context.SpanId))).ToHashSet();
        Assert.Subset(reached, appendIds);
        Assert.Equal(appendIds.Count, reached.Count);
    }
}
