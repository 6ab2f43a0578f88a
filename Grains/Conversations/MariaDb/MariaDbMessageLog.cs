using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Grains.Conversations.MariaDb;

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
    // leaves that thread's scheduler), which saves waking another thread for each commit.
    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(
        new UnboundedChannelOptions { SingleReader = false, AllowSynchronousContinuations = true });
    private readonly Task[] _writers;
    private readonly RowSql?[] _rows;
    private long _commits;
    private long _committed;

    public MariaDbMessageLog(IOptions<MessageLogOptions> options, ILogger<MariaDbMessageLog> logger)
    {
        _options = options.Value;
        _logger = logger;

        // Pooled connections are not reset on reuse (a round trip per open): this class leaves no session state
        // behind (no variables, no temporary tables, every transaction committed or rolled back).
        _connectionString = new MySqlConnectionStringBuilder(_options.ConnectionString) { ConnectionReset = false }.ConnectionString;
        _rows = new RowSql?[_options.MaxBatch];
        _writers = Enumerable.Range(0, _options.Writers).Select(_ => Task.Run(WriteLoopAsync)).ToArray();
    }

    /// <summary>Transactions committed so far (with <see cref="Committed"/>: the mean group-commit size).</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Messages committed so far.</summary>
    public long Committed => Interlocked.Read(ref _committed);

    public async ValueTask AppendAsync(StoredMessage message, CancellationToken cancellationToken = default)
    {
        var pending = new PendingAppend(message);
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("The message log is shutting down.");
        }

        await pending.Completion.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask<long> GetLatestSeqAsync(ConversationId conversation, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT MAX(seq) FROM sb_messages WHERE conversation = @c", connection);
        command.Parameters.AddWithValue("@c", conversation.Value);
        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is null or DBNull ? 0 : Convert.ToInt64(result, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask<HistoryPage> ReadAsync(ConversationId conversation, long after, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            "SELECT seq, sender, recipient, request_id, body, created_at FROM sb_messages " +
            "WHERE conversation = @c AND seq > @after ORDER BY seq LIMIT @limit", connection);
        command.Parameters.AddWithValue("@c", conversation.Value);
        command.Parameters.AddWithValue("@after", after);
        command.Parameters.AddWithValue("@limit", limit + 1);
        var messages = new List<StoredMessage>(Math.Min(limit, 128));
        var more = false;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (messages.Count == limit)
                {
                    more = true;
                    break;
                }

                messages.Add(ReadMessage(conversation, reader));
            }
        }

        // Seqs are gapless and retention only trims the start (keeping each conversation's latest), so a
        // first row past after + 1 means the reader asked for what retention dropped.
        var complete = messages.Count == 0 || messages[0].Seq == after + 1;
        return new HistoryPage(messages, complete, more);
    }

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
            var latest = new Dictionary<ConversationId, long>();
            var sql = new StringBuilder("SELECT conversation, MAX(seq) FROM sb_messages WHERE conversation IN (");
            await using var command = new MySqlCommand { Connection = connection };
            var index = 0;
            foreach (var group in groups)
            {
                sql.Append(index == 0 ? "@g0" : $", @g{index}");
                command.Parameters.AddWithValue($"@g{index}", group.Value);
                index++;
            }

            command.CommandText = sql.Append(") GROUP BY conversation").ToString();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    latest[ParseConversation(reader.GetString(0))] = reader.GetInt64(1);
                }
            }

            result.AddRange(groups.Select(g => new ConversationSummary(g, latest.GetValueOrDefault(g))));
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Conversation.Value, b.Conversation.Value));
        return result;
    }

    /// <summary>Deletes messages older than the retention, except each conversation's latest. Returns rows deleted.</summary>
    public async Task<long> SweepAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        long total = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var command = new MySqlCommand(
                "DELETE FROM sb_messages WHERE created_at < @cutoff " +
                "AND seq < (SELECT MAX(l.seq) FROM sb_messages l WHERE l.conversation = sb_messages.conversation) LIMIT 5000", connection);
            command.Parameters.AddWithValue("@cutoff", (now - _options.Retention).UtcDateTime);
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
            if (deleted < 5000)
            {
                break;
            }
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<PendingAppend>(_options.MaxBatch);
        var sql = new StringBuilder(1024);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _options.MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            if (_options.CommitDelay > TimeSpan.Zero && batch.Count > 0 && batch.Count < _options.MaxBatch)
            {
                await Task.Delay(_options.CommitDelay).ConfigureAwait(false);
                while (batch.Count < _options.MaxBatch && _queue.Reader.TryRead(out var late))
                {
                    batch.Add(late);
                }
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                await CommitAsync(batch, sql).ConfigureAwait(false);
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetResult();
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
                        await CommitAsync([pending], sql).ConfigureAwait(false);
                        pending.Completion.TrySetResult();
                    }
                    catch (Exception single)
                    {
                        pending.Completion.TrySetException(Classify(single, pending.Message));
                    }
                }
            }
            catch (Exception exception)
            {
                var classified = Classify(exception, batch[0].Message);
                if (classified is not DuplicateRequestException)
                {
                    LogAppendFailed(_logger, exception);
                }

                batch[0].Completion.TrySetException(classified);
            }
        }
    }

    /// <summary>
    /// Commits <paramref name="batch"/> in one round trip: a multi-row INSERT on its own (autocommit; one statement
    /// is atomic), or, when a direct conversation starts in it, <c>START TRANSACTION; INSERT; INSERT IGNORE; COMMIT</c>
    /// sent as one text command. MySqlConnector's BeginTransaction/Commit would cost two more round trips.
    /// </summary>
    private async Task CommitAsync(IReadOnlyList<PendingAppend> batch, StringBuilder sql)
    {
        var connection = await OpenAsync(CancellationToken.None).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var command = new MySqlCommand { Connection = connection };
        await using var commandScope = command.ConfigureAwait(false);
        var startsConversations = false;
        foreach (var pending in batch)
        {
            startsConversations |= StartsDirectConversation(pending.Message);
        }

        // A direct conversation enters both users' lists with its first message, in the same transaction.
        sql.Clear().Append(startsConversations ? "START TRANSACTION; " : string.Empty);
        sql.Append("INSERT INTO sb_messages (conversation, seq, sender, recipient, request_id, body, created_at) VALUES ");
        for (var i = 0; i < batch.Count; i++)
        {
            var message = batch[i].Message;
            var row = RowAt(i);
            sql.Append(i == 0 ? string.Empty : ", ").Append(row.Values);
            command.Parameters.AddWithValue(row.Conversation, message.Conversation.Value);
            command.Parameters.AddWithValue(row.Seq, message.Seq);
            command.Parameters.AddWithValue(row.From, message.From.Value);
            command.Parameters.AddWithValue(row.To, message.To.Value);
            command.Parameters.AddWithValue(row.RequestId, message.RequestId);
            command.Parameters.AddWithValue(row.Body, message.Body);
            command.Parameters.AddWithValue(row.CreatedAt, message.Timestamp.UtcDateTime);
        }

        sql.Append(';');
        if (startsConversations)
        {
            sql.Append(" INSERT IGNORE INTO sb_user_conversations (user_id, conversation) VALUES ");
            var first = true;
            for (var i = 0; i < batch.Count; i++)
            {
                var message = batch[i].Message;
                if (StartsDirectConversation(message))
                {
                    var row = RowAt(i);
                    var (a, b) = message.Conversation.Participants;
                    sql.Append(first ? string.Empty : ", ").Append(row.Participants);
                    command.Parameters.AddWithValue(row.ParticipantA, a.Value);
                    command.Parameters.AddWithValue(row.ParticipantB, b.Value);
                    first = false;
                }
            }

            sql.Append("; COMMIT;");
        }

        command.CommandText = sql.ToString();
        try
        {
            if (batch.Count == 1 && !startsConversations)
            {
                // The most common commit under light load: a server-side prepared statement, which MySqlConnector
                // prepares once per pooled connection (by its text) and then sends in the binary protocol,
                // without client-side parameter substitution or parsing by the server.
                await command.PrepareAsync().ConfigureAwait(false);
            }

            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch
        {
            await AbandonTransactionAsync(connection).ConfigureAwait(false);
            throw;
        }

        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _committed, batch.Count);
    }

    /// <summary>
    /// After a failed commit: MariaDB stops at the failing statement and leaves a started transaction open, and pooled
    /// connections are not reset, so roll back (a no-op when none is open) before the connection returns to the pool.
    /// If even that fails, retire the pool's connections (this one with them) rather than hand an open transaction to
    /// the next commit.
    /// </summary>
    private async Task AbandonTransactionAsync(MySqlConnection connection)
    {
        try
        {
            var rollback = new MySqlCommand("ROLLBACK", connection);
            await using var rollbackScope = rollback.ConfigureAwait(false);
            await rollback.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            LogRollbackFailed(_logger, exception);
            await MySqlConnection.ClearPoolAsync(connection).ConfigureAwait(false);
        }
    }

    private static bool StartsDirectConversation(StoredMessage message) => message.Seq == 1 && !message.Conversation.IsGroup;

    // Built once per row index and shared by every writer (a race only builds the same names twice).
    private RowSql RowAt(int index) => _rows[index] ??= new RowSql(index);

    /// <summary>A row refused by the unique (sender, request_id) is an answer for the sender's grain, not a failure.</summary>
    private static Exception Classify(Exception exception, StoredMessage message) =>
        exception is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry } duplicate && duplicate.Message.Contains("UX_sb_messages_request", StringComparison.Ordinal)
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
        (byte[])reader.GetValue(4),
        AsUtc(reader.GetDateTime(5)));

    private static ConversationId ParseConversation(string value) =>
        ConversationId.TryParse(value, out var id) ? id : throw new InvalidDataException($"Bad conversation id '{value}' in the log.");

    private static DateTimeOffset AsUtc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "A group commit of {Count} messages failed; committing them one by one")]
    private static partial void LogBatchFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "Appending a message to the log failed")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Rolling back a failed commit failed; the pooled connections are discarded")]
    private static partial void LogRollbackFailed(ILogger logger, Exception exception);

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
    }

    private sealed class PendingAppend(StoredMessage message)
    {
        public StoredMessage Message { get; } = message;

        // Continuations run where the commit completed: a grain's await is queued to its activation anyway, so
        // forcing them through the thread pool first only cost a wake-up per message.
        public TaskCompletionSource Completion { get; } = new();
    }
}
