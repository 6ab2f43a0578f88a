using Switchboard.Messaging;

namespace Switchboard.Conversations;

/// <summary>
/// The sequencer of one direct conversation (key: <c>dm:&lt;a&gt;:&lt;b&gt;</c>): gapless seq, the log
/// append, then delivery to the recipient.
/// </summary>
[Alias("sb.IDirectConversationGrain")]
public interface IDirectConversationGrain : IGrainWithStringKey
{
    /// <summary>Sequences and stores a message from one participant to the other, then delivers it to the recipient.</summary>
    [Alias("Append")]
    Task<StoredMessage> AppendAsync(SendCommand command);

    /// <summary>The latest seq (0 when empty).</summary>
    [Alias("GetLatestSeq")]
    Task<long> GetLatestSeqAsync();
}
