using System.ComponentModel.DataAnnotations;

namespace Switchboard.Persistence.MariaDb;

/// <summary>The MariaDB message log (section <c>Switchboard:MessageLog</c>; connection string <c>ConnectionStrings:MySql</c>).</summary>
public sealed class MessageLogOptions
{
    public const string SectionName = "Switchboard:MessageLog";

    /// <summary>The MariaDB/MySQL connection string (from <c>ConnectionStrings:MySql</c>).</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Most messages one commit carries (group commit). Default 256.</summary>
    [Range(1, 10_000)]
    public int MaxBatch { get; set; } = 256;

    /// <summary>Commits that may be in flight at once. Default 2. Each writer holds one connection of the pool while it is busy.</summary>
    [Range(1, 64)]
    public int Writers { get; set; } = 2;

    /// <summary>
    /// How long a writer waits, after the first message of a commit arrives, for more to join it. Default 0: commit
    /// at once (under load, what queues while a commit runs joins the next one anyway). A small delay trades that
    /// much latency for fewer commits when messages arrive one at a time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:00.050")]
    public TimeSpan CommitDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How long read markers (protocol 1.1 <c>read</c>) gather, after the first one, before they are committed together
    /// by the log's marker writer. Default 20 ms. A marker is still stored before its <c>ack</c>: the ack waits up to
    /// this long more, and markers cost one commit per interval instead of riding (and slowing) message commits.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan MarkerDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Most appends waiting for their commit (queued or in a commit) on this silo. Default 10,000. Past it an append
    /// is refused at once (<c>unavailable</c>) and never stored, so a stalled database cannot fill the silo's memory.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxBacklog { get; set; } = 10_000;

    /// <summary>Most bytes of message bodies waiting for their commit on this silo, beside <see cref="MaxBacklog"/>. Default 64 MiB.</summary>
    [Range(64 * 1024, 16L * 1024 * 1024 * 1024)]
    public long MaxBacklogBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How long messages are kept (the latest of each conversation is always kept). Default 30 days.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often expired messages are deleted. Default 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan RetentionSweepPeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The largest share of the log one retention sweep may delete. Default 0.5: a sweep that finds more expired (a
    /// clock set wrong, a retention shortened by mistake) deletes nothing and logs an error (event 4012). Raise it to
    /// 1 for the sweep after a deliberate cut of <see cref="Retention"/>.
    /// </summary>
    [Range(0.01, 1.0)]
    public double RetentionMaxSweepFraction { get; set; } = 0.5;

    /// <summary>
    /// Start even when the database does not make a commit survive a crash (innodb_flush_log_at_trx_commit other than
    /// 1, a binary log without sync_binlog=1, innodb_flush_method=nosync): acked messages may then be lost. Default
    /// false, and the silo refuses to start on such a server; on, it logs a warning (event 4023) at every start.
    /// </summary>
    public bool UnsafeAllowLossOfAckedMessages { get; set; }
}
