namespace Switchboard.Grains.Conversations;

/// <summary>
/// The message log's epoch: it changes only when the log's history was replaced (a restore from a backup; for the
/// in-memory log, every start), after which a conversation's seq numbers may be given again to other messages.
/// Clients see it in <c>welcome</c> and drop the seqs they hold from another epoch.
/// </summary>
public interface ILogEpoch
{
    string Epoch { get; }
}

/// <summary>An epoch made when the process starts: for a log that lives no longer than the process.</summary>
public sealed class ProcessLogEpoch : ILogEpoch
{
    public string Epoch { get; } = Guid.NewGuid().ToString("N");
}
