using System.Diagnostics;
using OpenTelemetry;

namespace Switchboard.Telemetry;

/// <summary>
/// Removes the attributes that may carry a user or group id, a token or message text before a span is exported:
/// Orleans' grain ids (<c>user/alice</c>), request paths (<c>/api/users/alice/...</c>) and queries, and exception
/// messages. What stays: span names (route templates, grain interface and method), status, durations.
/// </summary>
public sealed class SpanScrubber : BaseProcessor<Activity>
{
    /// <summary>The attributes removed.</summary>
    public static readonly string[] Removed =
    [
        // Orleans 10's grain ids on its grain call and runtime spans.
        "orleans.rpc.target_id", "orleans.rpc.source_id", "orleans.grain.id",
        "url.path", "url.query", "url.full", "http.target", "http.url",
        "client.address", "client.port", "user_agent.original",
        "exception.message", "exception.stacktrace",
    ];

    public override void OnEnd(Activity data)
    {
        foreach (var tag in Removed)
        {
            if (data.GetTagItem(tag) is not null)
            {
                data.SetTag(tag, null);
            }
        }
    }
}
