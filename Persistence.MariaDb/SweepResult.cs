namespace Switchboard.Persistence.MariaDb;

/// <summary>What one retention sweep did.</summary>
/// <param name="Outcome">Whether it ran, found another silo sweeping, or refused to delete.</param>
/// <param name="Deleted">Messages deleted.</param>
/// <param name="Expired">Messages older than the retention when it started (each conversation's latest among them is kept).</param>
/// <param name="Total">Messages in the log when it started (not counted, 0, when nothing had expired).</param>
public sealed record SweepResult(SweepOutcome Outcome, long Deleted, long Expired, long Total);

/// <summary>How a retention sweep ended.</summary>
public enum SweepOutcome
{
    /// <summary>Expired messages were deleted (possibly none).</summary>
    Swept,

    /// <summary>Another silo holds the sweep lock: nothing done, the next period tries again.</summary>
    Busy,

    /// <summary>More than the allowed fraction of the log had expired: nothing deleted, an error is logged.</summary>
    Refused,
}
