using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Persistence.MariaDb;

/// <summary>
/// The message log on MariaDB (schema: deploy/sql/02-message-log.sql). Appends are group-committed:
/// whatever queued while the previous commit ran goes in the next transaction, so the cost of a durable
/// commit is shared by every message in it. An append completes only after its transaction committed.
/// </summary>
public sealed partial class MariaDbMessageLog : IMessageLog, IAsyncDisposable
{
    private readonly MessageLogOptions _options;
    private readonly ILogger<MariaDbMessageLog> _logger;
    private readonly string _connectionString;
    // A writer waiting for work is resumed on the appending thread (it only starts the commit: every await below
    // leaves that thread's scheduler), which saves waking another thread for each commit. Unbounded as a channel:
    // the backlog counters below bound it, in bytes as well as in appends, and refuse rather than wait.
    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(
        new UnboundedChannelOptions { SingleReader = false, AllowSynchronousContinuations = true });
    // Read markers have a writer of their own that gathers them for MarkerDelay: a message's commit stays one prepared
    // INSERT instead of a transaction with an upsert beside it, and markers share a commit many to one.
    private readonly Channel<PendingAppend> _markers = Channel.CreateUnbounded<PendingAppend>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    private long _backlog;
    private long _backlogBytes;
    private long _refused;
    private int _refusing;
    private readonly Task[] _writers;
    private readonly RowSql?[] _rows;
    private readonly Histogram<double>? _commitDuration;
    private readonly Histogram<int>? _commitSize;
    private long _commits;
    private long _committed;

    public MariaDbMessageLog(IOptions<MessageLogOptions> options, ILogger<MariaDbMessageLog> logger, IMeterFactory? meterFactory = null)
    {
        _options = options.Value;
        _logger = logger;
        if (meterFactory is not null)
        {
            var meter = meterFactory.Create(MeterName);
            _commitDuration = meter.CreateHistogram("switchboard.log.commit.duration", "s", "Time from a commit's start to the server's answer (what every ack in it waited for last)",
                tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets.Seconds });
            _commitSize = meter.CreateHistogram("switchboard.log.commit.messages", "{message}", "Messages per commit (group commit)",
                tags: null, advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = CommitSizeBuckets });
            meter.CreateObservableGauge("switchboard.log.backlog", () => Backlog, "{message}", "Appends queued or in a commit (refused past MaxBacklog)");
            meter.CreateObservableCounter("switchboard.log.refused", () => Refused, "{message}", "Appends refused because the backlog was full");
        }

        _connectionString = ConnectionStringFor(_options.ConnectionString);
        _rows = new RowSql?[_options.MaxBatch];
        _writers = Enumerable.Range(0, _options.Writers)
            .Select(_ => Task.Run(() => WriteLoopAsync(_queue, _options.CommitDelay, connectEarly: true)))
            .Append(Task.Run(() => WriteLoopAsync(_markers, _options.MarkerDelay, connectEarly: false)))
            .ToArray();
    }

    /// <summary>
    /// The connection string of the log's MySqlConnector pool, which its health check and start checks share: pooled
    /// connections are not reset on reuse (a round trip per open), since this class leaves no session state behind
    /// (no variables, no temporary tables, every transaction committed or rolled back, every named lock released).
    /// </summary>
    public static string ConnectionStringFor(string connectionString) =>
        new MySqlConnectionStringBuilder(connectionString) { ConnectionReset = false }.ConnectionString;

    // Powers of two up to well past any MaxBatch a deployment would choose.
    private static readonly IReadOnlyList<int> CommitSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

    /// <summary>The meter of the log's instruments.</summary>
    public const string MeterName = "Switchboard.MessageLog";

    /// <summary>Transactions committed so far (with <see cref="Committed"/>: the mean group-commit size).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Messages committed so far.</summary>
    public long Committed => Interlocked.Read(ref _committed);

    /// <summary>Appends waiting for their commit (queued or in a commit).</summary>
    public long Backlog => Interlocked.Read(ref _backlog);

    /// <summary>Appends refused so far because the backlog was full.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>
    /// Queues <paramref name="message"/> for the next group commit and completes when it committed. Refuses it at once,
    /// with <see cref="MessageLogFullException"/>, when <see cref="MessageLogOptions.MaxBacklog"/> appends or
    /// <see cref="MessageLogOptions.MaxBacklogBytes"/> of bodies already wait: a refused append is never queued, so never
    /// stored. A caller that stops waiting (<paramref name="cancellationToken"/>) does not withdraw its append: it may
    /// still commit, and the retry with the same request id is refused by the unique (sender, request_id) and answered
    /// with the stored receipt.
    /// </summary>
    public ValueTask AppendAsync(StoredMessage message, CancellationToken cancellationToken = default) =>
        EnqueueAsync(new PendingAppend(message), cancellationToken);

    // Appends and markers share the queue, the backlog bound and the commits.
    private ValueTask EnqueueAsync(PendingAppend pending, CancellationToken cancellationToken)
    {
        if (!TryReserve(pending))
        {
            Interlocked.Increment(ref _refused);
            // Once per episode: an overloaded silo refusing thousands of appends a second must not flood its log too.
            if (Interlocked.Exchange(ref _refusing, 1) == 0)
            {
                LogBacklogFull(_logger, _options.MaxBacklog, _options.MaxBacklogBytes);
            }

            return ValueTask.FromException(new MessageLogFullException("The message log's backlog is full."));
        }

        // The episode ends once the backlog drained to half, not at the first slot that frees: under steady overload
        // appends are taken and refused in turn, and each turn would log again.
        if (Volatile.Read(ref _refusing) != 0 && Backlog <= _options.MaxBacklog / 2 && Interlocked.Read(ref _backlogBytes) <= _options.MaxBacklogBytes / 2)
        {
            Volatile.Write(ref _refusing, 0);
        }

        if (!(pending.Marker is null ? _queue : _markers).Writer.TryWrite(pending))
        {
            Release(pending);
            return ValueTask.FromException(new InvalidOperationException("The message log is shutting down."));
        }

        // No async frame of its own: the caller awaits the commit's completion directly.
        var committed = pending.Completion.Task;
        return new ValueTask(cancellationToken.CanBeCanceled ? committed.WaitAsync(cancellationToken) : committed);
    }

    private bool TryReserve(PendingAppend pending)
    {
        if (Interlocked.Increment(ref _backlog) > _options.MaxBacklog)
        {
            Interlocked.Decrement(ref _backlog);
            return false;
        }

        if (Interlocked.Add(ref _backlogBytes, pending.BodyBytes) > _options.MaxBacklogBytes)
        {
            Release(pending);
            return false;
        }

        return true;
    }

    private void Release(PendingAppend pending)
    {
        Interlocked.Decrement(ref _backlog);
        Interlocked.Add(ref _backlogBytes, -pending.BodyBytes);
    }

    // Every queued append ends here once, committed or failed: its body leaves the backlog with it.
    private void Succeed(PendingAppend pending)
    {
        Release(pending);
        pending.Completion.TrySetResult();
    }

    private void Fail(PendingAppend pending, Exception exception)
    {
        Release(pending);
        pending.Completion.TrySetException(exception);
    }

    public async ValueTask<long> GetLatestSeqAsync(ConversationId conversation, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT MAX(seq) FROM sb_messages WHERE conversation = @c", connection);
        command.Parameters.AddWithValue("@c", conversation.Value);
        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is null or DBNull ? 0 : Convert.ToInt64(result, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask<HistoryPage> ReadAsync(ConversationId conversation, long after, int limit, long maxBytes, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            "SELECT seq, sender, recipient, request_id, body, created_at, deleted FROM sb_messages " +
            "WHERE conversation = @c AND seq > @after ORDER BY seq LIMIT @limit", connection);
        command.Parameters.AddWithValue("@c", conversation.Value);
        var from = command.Parameters.AddWithValue("@after", after);
        var take = command.Parameters.AddWithValue("@limit", 0);
        var messages = new List<StoredMessage>(Math.Min(limit, 128));
        var more = false;
        long bytes = 0;
        // Rows stream off the socket one at a time and each body is sized before it is copied, so the page never holds
        // more than maxBytes of bodies (plus its first row). The rows are asked for in doubling chunks: a reader stopped
        // by the bytes discards what the server already sent, at most one chunk, not the rest of the row limit.
        for (var chunk = FirstReadChunk; ; chunk *= 2)
        {
            var asked = Math.Min(limit - messages.Count + 1, chunk);
            from.Value = messages.Count > 0 ? messages[^1].Seq : after;
            take.Value = asked;
            var rows = 0;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows++;
                    var size = reader.IsDBNull(4) ? 0 : reader.GetBytes(4, 0, null, 0, 0);
                    if (messages.Count == limit || (messages.Count > 0 && bytes + size > maxBytes))
                    {
                        more = true;
                        break;
                    }

                    bytes += size;
                    messages.Add(ReadMessage(conversation, reader));
                }
            }

            if (more || rows < asked)
            {
                break;
            }
        }

        // Seqs are gapless and retention only trims the start (keeping each conversation's latest), so a
        // first row past after + 1 means the reader asked for what retention dropped.
        var complete = messages.Count == 0 || messages[0].Seq == after + 1;
        return new HistoryPage(messages, complete, more);
    }

    // Enough rows for a page of small bodies in a few round trips; 32 of the largest bodies are 2 MiB.
    private const int FirstReadChunk = 32;

    public async ValueTask<SendReceipt?> FindRequestAsync(UserId sender, string requestId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT conversation, seq FROM sb_messages WHERE sender = @s AND request_id = @r", connection);
        command.Parameters.AddWithValue("@s", sender.Value);
        command.Parameters.AddWithValue("@r", requestId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new SendReceipt(ParseConversation(reader.GetString(0)), reader.GetInt64(1)) : null;
    }

    public async ValueTask<IReadOnlyList<ConversationSummary>> ListConversationsAsync(UserId user, IReadOnlyCollection<ConversationId> groups, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var result = await ReadDirectConversationsAsync(connection, user, int.MaxValue - 1, cancellationToken);

        if (groups.Count > 0)
        {
            var latest = await ReadGroupLatestAsync(connection, groups, cancellationToken);
            result.AddRange(groups.Select(g => new ConversationSummary(g, latest.GetValueOrDefault(g))));
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Conversation.Value, b.Conversation.Value));
        return result;
    }

    /// <summary>
    /// Deletes messages older than the retention by the database's clock, except each conversation's latest: a silo
    /// whose clock jumped ahead must not delete what is recent. One silo sweeps at a time (a named lock per database;
    /// the others skip), and a sweep that would delete more than <see cref="MessageLogOptions.RetentionMaxSweepFraction"/>
    /// of the log is refused, so a wrong clock or setting cannot empty it.
    /// </summary>
    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken)
    {
        const int Chunk = 5000;
        await using var connection = await OpenAsync(cancellationToken);
        await using (var take = new MySqlCommand("SELECT GET_LOCK(CONCAT('switchboard.retention.', DATABASE()), 0)", connection))
        {
            if (Convert.ToInt64(await take.ExecuteScalarAsync(cancellationToken) ?? 0L, System.Globalization.CultureInfo.InvariantCulture) != 1)
            {
                return new SweepResult(SweepOutcome.Busy, 0, 0, 0);
            }
        }

        try
        {
            // One cutoff for the whole sweep, from the database's clock, never the silo's.
            DateTime cutoff;
            await using (var now = new MySqlCommand("SELECT UTC_TIMESTAMP(6) - INTERVAL @retention MICROSECOND", connection))
            {
                now.Parameters.AddWithValue("@retention", _options.Retention.Ticks / TimeSpan.TicksPerMicrosecond);
                cutoff = Convert.ToDateTime(await now.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            }

            // The expired count reads a range of the created_at index; the total, that whole index (the smallest).
            long expired;
            long total;
            await using (var count = new MySqlCommand("SELECT COUNT(*) FROM sb_messages WHERE created_at < @cutoff", connection))
            {
                count.Parameters.AddWithValue("@cutoff", cutoff);
                expired = await CountAsync(count, cancellationToken);
            }

            if (expired == 0)
            {
                return new SweepResult(SweepOutcome.Swept, 0, 0, 0);
            }

            await using (var count = new MySqlCommand("SELECT COUNT(*) FROM sb_messages", connection))
            {
                total = await CountAsync(count, cancellationToken);
            }

            // Over the bound, count what the DELETE would really take (each conversation's latest is kept): a small log
            // whose only conversation went quiet is all expired, yet loses nothing. Costlier, so only then.
            if (expired > total * _options.RetentionMaxSweepFraction)
            {
                await using var count = new MySqlCommand($"SELECT COUNT(*) FROM sb_messages WHERE created_at < @cutoff AND {NotLatest}", connection);
                count.Parameters.AddWithValue("@cutoff", cutoff);
                if (await CountAsync(count, cancellationToken) > total * _options.RetentionMaxSweepFraction)
                {
                    return new SweepResult(SweepOutcome.Refused, 0, expired, total);
                }
            }

            long deleted = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                await using var command = new MySqlCommand(
                    $"DELETE FROM sb_messages WHERE created_at < @cutoff AND {NotLatest} LIMIT @chunk", connection);
                command.Parameters.AddWithValue("@cutoff", cutoff);
                command.Parameters.AddWithValue("@chunk", Chunk);
                var chunk = await command.ExecuteNonQueryAsync(cancellationToken);
                deleted += chunk;
                if (chunk < Chunk)
                {
                    break;
                }
            }

            return new SweepResult(SweepOutcome.Swept, deleted, expired, total);
        }
        finally
        {
            // A pooled connection stays open, so the lock must be let go here; when the connection itself broke, the
            // server already released it with the session, and the sweep's own exception is the one to report.
            try
            {
                await using var release = new MySqlCommand("DO RELEASE_LOCK(CONCAT('switchboard.retention.', DATABASE()))", connection);
                await release.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (MySqlException)
            {
                // Nothing to undo: the lock went with the broken session.
            }
        }
    }

    // A row of sb_messages that is not its conversation's latest. ORDER BY ... LIMIT 1 is one descent of the primary key,
    // where MAX() in this dependent subquery read the whole conversation.
    private const string NotLatest =
        "seq < (SELECT l.seq FROM sb_messages l WHERE l.conversation = sb_messages.conversation ORDER BY l.seq DESC LIMIT 1)";

    private static async Task<long> CountAsync(MySqlCommand count, CancellationToken cancellationToken) =>
        Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _markers.Writer.TryComplete();
        await Task.WhenAll(_writers);
    }

    private async Task WriteLoopAsync(Channel<PendingAppend> queue, TimeSpan delay, bool connectEarly)
    {
        var batch = new List<PendingAppend>(_options.MaxBatch);
        var sql = new StringBuilder(1024);
        await using var session = new WriterSession(_connectionString, _logger);
        // The marker writer takes a connection only once a deployment uses read markers; small rows fit the default budget.
        if (connectEarly)
        {
            await session.LearnPacketLimitAsync().ConfigureAwait(false);
        }

        // A message that did not fit the previous batch's bytes opens the next one.
        PendingAppend? carried = null;
        while (carried is not null || await queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            var budget = session.BatchBudget;
            long size = 0;
            if (carried is not null)
            {
                batch.Add(carried);
                size = carried.SqlBytes;
                carried = null;
            }

            carried = Fill(queue, batch, ref size, budget);
            if (carried is null && delay > TimeSpan.Zero && batch.Count > 0 && batch.Count < _options.MaxBatch)
            {
                await Task.Delay(delay).ConfigureAwait(false);
                carried = Fill(queue, batch, ref size, budget);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                await CommitAsync(batch, sql, session).ConfigureAwait(false);
                foreach (var pending in batch)
                {
                    Succeed(pending);
                }
            }
            catch (Exception exception) when (batch.Count > 1)
            {
                // One bad row (a seq written twice by a stale activation, a request id stored twice) fails the whole
                // commit: commit the rest one by one so only the culprit fails.
                LogBatchFailed(_logger, batch.Count, exception);
                foreach (var pending in batch)
                {
                    try
                    {
                        await CommitAsync([pending], sql, session).ConfigureAwait(false);
                        Succeed(pending);
                    }
                    catch (Exception single)
                    {
                        Fail(pending, Classify(single, pending));
                    }
                }
            }
            catch (Exception exception)
            {
                var classified = Classify(exception, batch[0]);
                if (classified is not DuplicateRequestException)
                {
                    LogAppendFailed(_logger, exception);
                }

                Fail(batch[0], classified);
            }
        }
    }

    /// <summary>
    /// Moves queued appends into <paramref name="batch"/> up to <see cref="MessageLogOptions.MaxBatch"/> rows and
    /// <paramref name="budget"/> bytes of SQL; returns the append that would have overflowed the bytes, if any. Past
    /// the server's max_allowed_packet a whole batch fails, and committing it again one by one would turn group
    /// commit off exactly when bodies are large.
    /// </summary>
    private PendingAppend? Fill(Channel<PendingAppend> queue, List<PendingAppend> batch, ref long size, long budget)
    {
        while (batch.Count < _options.MaxBatch && queue.Reader.TryRead(out var pending))
        {
            var bytes = pending.SqlBytes;
            if (batch.Count > 0 && size + bytes > budget)
            {
                return pending;
            }

            batch.Add(pending);
            size += bytes;
        }

        return null;
    }

    /// <summary>
    /// An upper bound of one message's share of a multi-row commit's text: MySqlConnector writes a blob or a string
    /// with at most two bytes per byte (escapes), and the conversation appears again in both participants' rows.
    /// </summary>
    internal static long EstimatedSqlBytes(StoredMessage message) =>
        2L * (message.Body.Length + Encoding.UTF8.GetByteCount(message.RequestId) + 3 * message.Conversation.Value.Length
              + message.From.Value.Length + message.To.Value.Length) + 256;

    /// <summary>
    /// Commits <paramref name="batch"/> in one round trip on the writer's own connection: one message without a new
    /// conversation through the writer's prepared one-row INSERT (the common commit under light load), other
    /// batches as a multi-row INSERT on its own (autocommit; one statement is atomic), or, when a direct conversation
    /// starts in the batch, <c>START TRANSACTION; INSERT; INSERT IGNORE; COMMIT</c> sent as one text command
    /// (MySqlConnector's BeginTransaction/Commit would cost two more round trips).
    /// </summary>
    private async Task CommitAsync(IReadOnlyList<PendingAppend> batch, StringBuilder sql, WriterSession session)
    {
        var startsConversations = false;
        var messages = 0;
        foreach (var pending in batch)
        {
            if (pending.Message is { } message)
            {
                messages++;
                startsConversations |= StartsDirectConversation(message);
            }
        }

        using var activity = StartCommitActivity(batch);
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (batch.Count == 1 && batch[0].Message is { } only && !startsConversations)
            {
                var insert = await session.InsertOneAsync().ConfigureAwait(false);
                WriterSession.Bind(insert, only);
                await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            else
            {
                await CommitTextAsync(batch, sql, messages, startsConversations, await session.ConnectionAsync().ConfigureAwait(false)).ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            await session.AbandonAsync().ConfigureAwait(false);
            throw;
        }

        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _committed, messages);
        _commitDuration?.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (messages > 0)
        {
            _commitSize?.Record(messages);
        }
    }

    /// <summary>
    /// The commit's span, only when an append in it is recorded: a child of the first such append (so a traced send
    /// shows its commit) with links to the others; the writer's loop never starts traces of its own.
    /// </summary>
    private static Activity? StartCommitActivity(IReadOnlyList<PendingAppend> batch)
    {
        if (!MessageLogTracing.Source.HasListeners())
        {
            return null;
        }

        ActivityContext? parent = null;
        List<ActivityLink>? links = null;
        foreach (var pending in batch)
        {
            if (pending.Trace is not { } trace)
            {
                continue;
            }

            if (parent is null)
            {
                parent = trace;
            }
            else if ((links ??= []).Count < MaxCommitLinks)
            {
                links.Add(new ActivityLink(trace));
            }
        }

        if (parent is null)
        {
            return null;
        }

        var activity = MessageLogTracing.Source.StartActivity("message_log commit", ActivityKind.Client, parent.Value, links: links);
        activity?.SetTag("db.system.name", "mariadb");
        activity?.SetTag("switchboard.log.commit.messages", batch.Count);
        return activity;
    }

    private const int MaxCommitLinks = 32;

    private async Task CommitTextAsync(IReadOnlyList<PendingAppend> batch, StringBuilder sql, int messages, bool startsConversations, MySqlConnection connection)
    {
        var command = new MySqlCommand { Connection = connection };
        await using var commandScope = command.ConfigureAwait(false);

        // More than one statement (a direct conversation starting, markers beside messages) is one transaction, sent
        // as one text command with the rest.
        var markers = batch.Count - messages;
        var transaction = (messages > 0 ? 1 : 0) + (startsConversations ? 1 : 0) + (markers > 0 ? 1 : 0) > 1;
        sql.Clear().Append(transaction ? "START TRANSACTION; " : string.Empty);
        if (messages > 0)
        {
            sql.Append("INSERT INTO sb_messages (conversation, seq, sender, recipient, request_id, body, created_at) VALUES ");
            var first = true;
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].Message is not { } message)
                {
                    continue;
                }

                var row = RowAt(i);
                sql.Append(first ? string.Empty : ", ").Append(row.Values);
                command.Parameters.AddWithValue(row.Conversation, message.Conversation.Value);
                command.Parameters.AddWithValue(row.Seq, message.Seq);
                command.Parameters.AddWithValue(row.From, message.From.Value);
                command.Parameters.AddWithValue(row.To, message.To.Value);
                command.Parameters.AddWithValue(row.RequestId, message.RequestId);
                command.Parameters.AddWithValue(row.Body, message.Body);
                command.Parameters.AddWithValue(row.CreatedAt, message.Timestamp.UtcDateTime);
                first = false;
            }

            sql.Append("; ");
        }

        // A direct conversation enters both users' lists with its first message, in the same transaction.
        if (startsConversations)
        {
            sql.Append("INSERT IGNORE INTO sb_user_conversations (user_id, conversation) VALUES ");
            var first = true;
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].Message is { } message && StartsDirectConversation(message))
                {
                    var row = RowAt(i);
                    var (a, b) = message.Conversation.Participants;
                    sql.Append(first ? string.Empty : ", ").Append(row.Participants);
                    command.Parameters.AddWithValue(row.ParticipantA, a.Value);
                    command.Parameters.AddWithValue(row.ParticipantB, b.Value);
                    first = false;
                }
            }

            sql.Append("; ");
        }

        // Read markers (the marker writer's batches): forward only, whatever order they were queued in.
        if (markers > 0)
        {
            sql.Append("INSERT INTO sb_read_markers (user_id, conversation, seq) VALUES ");
            var first = true;
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].Marker is not { } marker)
                {
                    continue;
                }

                var row = RowAt(i);
                sql.Append(first ? string.Empty : ", ").Append(row.MarkerValues);
                command.Parameters.AddWithValue(row.MarkerUser, marker.User.Value);
                command.Parameters.AddWithValue(row.Conversation, marker.Conversation.Value);
                command.Parameters.AddWithValue(row.Seq, marker.Seq);
                first = false;
            }

            sql.Append(" ON DUPLICATE KEY UPDATE seq = GREATEST(seq, VALUES(seq)); ");
        }

        sql.Append(transaction ? "COMMIT;" : string.Empty);
        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }


    private static bool StartsDirectConversation(StoredMessage message) => message.Seq == 1 && !message.Conversation.IsGroup;

    // Built once per row index and shared by every writer (a race only builds the same names twice).
    private RowSql RowAt(int index) => _rows[index] ??= new RowSql(index);

    /// <summary>A row refused by the unique (sender, request_id) is an answer for the sender's grain, not a failure.</summary>
    private static Exception Classify(Exception exception, PendingAppend pending) =>
        pending.Message is { } message && exception is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry } duplicate && duplicate.Message.Contains("UX_sb_messages_request", StringComparison.Ordinal)
            ? new DuplicateRequestException(message.RequestId)
            : exception;

    private async Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static StoredMessage ReadMessage(ConversationId conversation, MySqlDataReader reader) => new(
        conversation,
        reader.GetInt64(0),
        new UserId(reader.GetString(1)),
        Recipient.TryParse(reader.GetString(2), out var to) ? to : throw new InvalidDataException($"Bad recipient in {conversation}."),
        reader.GetString(3),
        reader.IsDBNull(4) ? [] : (byte[])reader.GetValue(4),
        AsUtc(reader.GetDateTime(5)),
        Deleted: reader.GetBoolean(6));

    private static ConversationId ParseConversation(string value) =>
        ConversationId.TryParse(value, out var id) ? id : throw new InvalidDataException($"Bad conversation id '{value}' in the log.");

    private static DateTimeOffset AsUtc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "A group commit of {Count} messages failed; committing them one by one")]
    private static partial void LogBatchFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "Appending a message to the log failed")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Rolling back a failed commit failed; the pooled connections are discarded")]
    private static partial void LogRollbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "The backlog of appends waiting for commits is full ({MaxBacklog} appends or {MaxBacklogBytes} bytes): appends are refused with unavailable until it drains")]
    private static partial void LogBacklogFull(ILogger logger, int maxBacklog, long maxBacklogBytes);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "A log writer could not reach the database at start; batches are capped at 4 MiB of SQL until it learns max_allowed_packet")]
    private static partial void LogPacketLimitUnknown(ILogger logger, Exception exception);

    /// <summary>The parameter names and SQL fragments of one row of a commit, so a commit does not format them again.</summary>
    private sealed class RowSql(int index)
    {
        public string Conversation { get; } = $"@c{index}";

        public string Seq { get; } = $"@s{index}";

        public string From { get; } = $"@f{index}";

        public string To { get; } = $"@t{index}";

        public string RequestId { get; } = $"@r{index}";

        public string Body { get; } = $"@b{index}";

        public string CreatedAt { get; } = $"@d{index}";

        public string ParticipantA { get; } = $"@pa{index}";

        public string ParticipantB { get; } = $"@pb{index}";

        public string Values { get; } = $"(@c{index}, @s{index}, @f{index}, @t{index}, @r{index}, @b{index}, @d{index})";

        public string Participants { get; } = $"(@pa{index}, @c{index}), (@pb{index}, @c{index})";

        public string MarkerUser { get; } = $"@mu{index}";

        public string MarkerValues { get; } = $"(@mu{index}, @c{index}, @s{index})";
    }

    /// <summary>
    /// One writer's connection, held across its commits (no pool round trip per commit), and its one-row INSERT,
    /// prepared once on that connection: a commit of one message only sets the parameters, and MySqlConnector sends
    /// it in the binary protocol, without client-side substitution or parsing by the server. A connection idle for
    /// longer than <see cref="MaxIdle"/> goes back to the pool and a fresh one is taken, so a writer does not commit
    /// on a connection the server or a proxy may have dropped while it sat idle.
    /// </summary>
    private sealed class WriterSession(string connectionString, ILogger logger) : IAsyncDisposable
    {
        private const string InsertOneSql =
            "INSERT INTO sb_messages (conversation, seq, sender, recipient, request_id, body, created_at) VALUES (@c, @s, @f, @t, @r, @b, @d)";

        private static readonly TimeSpan MaxIdle = TimeSpan.FromSeconds(30);

        // What a batch may fill before the server knows its max_allowed_packet: MariaDB's default is 16 MiB, MySQL's 64.
        private const long UnknownPacketLimit = 4 * 1024 * 1024;

        // Room for the statement's own text (START TRANSACTION, the column lists, COMMIT) beside the rows.
        private const long PacketHeadroom = 16 * 1024;

        private MySqlConnection? _connection;
        private MySqlCommand? _insertOne;
        private long _lastUsed;
        private long _packetLimit = UnknownPacketLimit;

        /// <summary>The bytes of SQL one multi-row commit may carry: below the server's max_allowed_packet.</summary>
        public long BatchBudget => Math.Max(_packetLimit - PacketHeadroom, _packetLimit / 2);

        /// <summary>Connects early so the first batch is already sized to the server; a database down now is reported by the first commit.</summary>
        public async ValueTask LearnPacketLimitAsync()
        {
            try
            {
                await ConnectionAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is MySqlException or InvalidOperationException or TimeoutException)
            {
                LogPacketLimitUnknown(logger, exception);
            }
        }

        public async ValueTask<MySqlConnection> ConnectionAsync()
        {
            if (_connection is not null && Stopwatch.GetElapsedTime(_lastUsed) > MaxIdle)
            {
                await ReleaseAsync().ConfigureAwait(false);
            }

            _lastUsed = Stopwatch.GetTimestamp();
            if (_connection is null)
            {
                var connection = new MySqlConnection(connectionString);
                try
                {
                    await connection.OpenAsync().ConfigureAwait(false);
                    var packet = new MySqlCommand("SELECT @@max_allowed_packet", connection);
                    await using var packetScope = packet.ConfigureAwait(false);
                    _packetLimit = Convert.ToInt64(await packet.ExecuteScalarAsync().ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
                }
                catch
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw;
                }

                _connection = connection;
            }

            return _connection;
        }

        public async ValueTask<MySqlCommand> InsertOneAsync()
        {
            var connection = await ConnectionAsync().ConfigureAwait(false);
            if (_insertOne is null)
            {
                // Names without the '@' (MySqlConnector matches them to @c... in the text) and types fixed up front: a
                // commit neither normalizes names nor infers types.
                var command = new MySqlCommand(InsertOneSql, connection);
                command.Parameters.Add(new MySqlParameter("c", MySqlDbType.VarChar));
                command.Parameters.Add(new MySqlParameter("s", MySqlDbType.Int64));
                command.Parameters.Add(new MySqlParameter("f", MySqlDbType.VarChar));
                command.Parameters.Add(new MySqlParameter("t", MySqlDbType.VarChar));
                command.Parameters.Add(new MySqlParameter("r", MySqlDbType.VarChar));
                command.Parameters.Add(new MySqlParameter("b", MySqlDbType.MediumBlob));
                command.Parameters.Add(new MySqlParameter("d", MySqlDbType.DateTime));
                await command.PrepareAsync().ConfigureAwait(false);
                _insertOne = command;
            }

            return _insertOne;
        }

        public static void Bind(MySqlCommand insert, StoredMessage message)
        {
            var parameters = insert.Parameters;
            parameters[0].Value = message.Conversation.Value;
            parameters[1].Value = message.Seq;
            parameters[2].Value = message.From.Value;
            parameters[3].Value = message.To.Value;
            parameters[4].Value = message.RequestId;
            parameters[5].Value = message.Body;
            parameters[6].Value = message.Timestamp.UtcDateTime;
        }

        /// <summary>
        /// After a failed commit: MariaDB stops at the failing statement and may leave a started transaction open, so
        /// roll back (a no-op when none is open) and keep the connection. If even that fails, the connection is
        /// broken: let it go, and retire the pool's idle connections too (they may be as stale), rather than commit on
        /// one with an open transaction.
        /// </summary>
        public async ValueTask AbandonAsync()
        {
            if (_connection is not { } connection)
            {
                return;
            }

            try
            {
                var rollback = new MySqlCommand("ROLLBACK", connection);
                await using var rollbackScope = rollback.ConfigureAwait(false);
                await rollback.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                LogRollbackFailed(logger, exception);
                await MySqlConnection.ClearPoolAsync(connection).ConfigureAwait(false);
                await ReleaseAsync().ConfigureAwait(false);
            }
        }

        public ValueTask DisposeAsync() => ReleaseAsync();

        private async ValueTask ReleaseAsync()
        {
            if (_insertOne is not null)
            {
                await _insertOne.DisposeAsync().ConfigureAwait(false);
                _insertOne = null;
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync().ConfigureAwait(false);
                _connection = null;
            }
        }
    }

    /// <summary>A message to append, or a read marker to move (<see cref="MarkReadAsync"/>), waiting for its commit.</summary>
    private sealed class PendingAppend
    {
        public PendingAppend(StoredMessage message)
        {
            Message = message;
            BodyBytes = message.Body.Length;
            SqlBytes = EstimatedSqlBytes(message);
        }

        public PendingAppend(ReadMarker marker)
        {
            Marker = marker;
            SqlBytes = MarkerSqlBytes;
        }

        public StoredMessage? Message { get; }

        public ReadMarker? Marker { get; }

        /// <summary>What the append adds to the backlog's bytes: a message's body, nothing for a marker.</summary>
        public long BodyBytes { get; }

        /// <summary>An upper bound of its share of a multi-row commit's text.</summary>
        public long SqlBytes { get; }

        // The append's span, when it is recorded: the commit's span joins its trace.
        public ActivityContext? Trace { get; } = Activity.Current is { Recorded: true } current ? current.Context : null;

        // Continuations run where the commit completed: a grain's await is queued to its activation anyway, so
        // forcing them through the thread pool first only cost a wake-up per message.
        public TaskCompletionSource Completion { get; } = new();
    }
}
