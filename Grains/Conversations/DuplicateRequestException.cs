namespace Switchboard.Grains.Conversations;

/// <summary>
/// The log already holds a message with this sender's request id: nothing was stored. The sender's grain answers
/// with the original message's receipt. It crosses silos (a conversation's sequencer may live on another one).
/// </summary>
[GenerateSerializer, Alias("sb.DuplicateRequestException")]
public sealed class DuplicateRequestException : Exception
{
    public DuplicateRequestException(string requestId)
        : base($"Request id '{requestId}' is already stored for this sender.") => RequestId = requestId;

    [Id(0)]
    public string RequestId { get; }
}
