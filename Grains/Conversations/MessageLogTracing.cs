using System.Diagnostics;
using Switchboard.Messaging;

namespace Switchboard.Grains.Conversations;

/// <summary>
/// The message log's spans, on one <see cref="ActivitySource"/>: an append (from the grain that sequenced the message
/// until the log says it is stored) and, in logs that group commits, the commit it went out in. No ids as attributes:
/// the conversation's kind and the body's size only.
/// </summary>
public static class MessageLogTracing
{
    /// <summary>The source's name, the same as the log's meter.</summary>
    public const string SourceName = "Switchboard.MessageLog";

    /// <summary>The source the logs start their spans on.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>A span for appending <paramref name="message"/>, or null when nobody records it.</summary>
    public static Activity? StartAppend(StoredMessage message)
    {
        var activity = Source.StartActivity("message_log append");
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("switchboard.conversation.kind", message.Conversation.IsGroup ? "group" : "direct");
            activity.SetTag("switchboard.message.bytes", message.Body.Length);
        }

        return activity;
    }
}
