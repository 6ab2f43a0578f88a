using Microsoft.Extensions.Options;
using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Persistence.MariaDb;

public sealed partial class MariaDbMessageLog
{
    /// <summary>
    /// The participants of the warm-up's scratch conversation. A <c>~</c> fails the id grammar at every edge, so no token,
    /// REST call or socket can name them: no user can list, read or write this conversation.
    /// </summary>
    public static readonly UserId WarmUpUserA = new("~warm-up-a");

    /// <inheritdoc cref="WarmUpUserA"/>
    public static readonly UserId WarmUpUserB = new("~warm-up-b");

    /// <summary>The scratch conversation of <see cref="WarmUpUserA"/> and <see cref="WarmUpUserB"/>.</summary>
    public static ConversationId WarmUpConversation => ConversationId.Direct(WarmUpUserA, WarmUpUserB);

    /// <summary>
    /// Before the silo reports ready: opens <paramref name="connections"/> of the log's pooled connections at once
    /// (MySqlConnector opens them on demand otherwise, each a handshake while a send waits), runs a send's and a list's
    /// reads on each, and on one the statements of a conversation's first message inside a transaction that is rolled
    /// back, so nothing it wrote is ever committed or seen by another transaction. The connections go back to the pool open.
    /// Returns the connections opened.
    /// </summary>
    public async Task<int> WarmUpAsync(int connections, CancellationToken cancellationToken)
    {
        var opening = Enumerable.Range(0, connections).Select(_ => OpenAsync(cancellationToken)).ToArray();
        try
        {
            await Task.WhenAll(opening);
            var conversation = WarmUpConversation;
            await Task.WhenAll(opening.Select(async open =>
            {
                var connection = await open;
                await ReadDirectConversationsAsync(connection, WarmUpUserA, 1, cancellationToken);
                await using var latest = new MySqlCommand("SELECT MAX(seq) FROM sb_messages WHERE conversation = @c", connection);
                latest.Parameters.AddWithValue("@c", conversation.Value);
                await latest.ExecuteScalarAsync(cancellationToken);
            }));

            await DryRunFirstMessageAsync(await opening[0], conversation, cancellationToken);
            return opening.Length;
        }
        finally
        {
            foreach (var open in opening)
            {
                if (open.IsCompletedSuccessfully)
                {
                    await open.Result.DisposeAsync();
                }
            }
        }
    }

    private static async Task DryRunFirstMessageAsync(MySqlConnection connection, ConversationId conversation, CancellationToken cancellationToken)
    {
        var message = new StoredMessage(conversation, 1, WarmUpUserA, Recipient.ForUser(WarmUpUserB), $"warm-up-{Guid.NewGuid():N}", "{}"u8.ToArray(), DateTimeOffset.UtcNow);
        await using var command = new MySqlCommand(
            "START TRANSACTION; " +
            "INSERT INTO sb_messages (conversation, seq, sender, recipient, request_id, body, created_at) VALUES (@c, @s, @f, @t, @r, @b, @d); " +
            "INSERT IGNORE INTO sb_user_conversations (user_id, conversation) VALUES (@pa, @c), (@pb, @c); " +
            "ROLLBACK", connection);
        command.Parameters.AddWithValue("@c", message.Conversation.Value);
        command.Parameters.AddWithValue("@s", message.Seq);
        command.Parameters.AddWithValue("@f", message.From.Value);
        command.Parameters.AddWithValue("@t", message.To.Value);
        command.Parameters.AddWithValue("@r", message.RequestId);
        command.Parameters.AddWithValue("@b", message.Body);
        command.Parameters.AddWithValue("@d", message.Timestamp.UtcDateTime);
        command.Parameters.AddWithValue("@pa", WarmUpUserA.Value);
        command.Parameters.AddWithValue("@pb", WarmUpUserB.Value);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch
        {
            // A statement that failed midway leaves the transaction open on a connection going back to the pool.
            await using var rollback = new MySqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
            throw;
        }
    }
}

/// <summary>
/// The database part of a silo's warm-up: both MySqlConnector pools of <see cref="Hosting.MariaDbHosting.PoolConnectionStrings"/>
/// opened before the first user needs them. Reads only, and a dry run rolled back (see <see cref="MariaDbMessageLog.WarmUpAsync"/>).
/// </summary>
public sealed class MariaDbWarmUp(IOptions<MessageLogOptions> options, MariaDbMessageLog log)
{
    /// <summary>Opens <paramref name="connections"/> connections of each pool; returns how many were opened in all.</summary>
    public async Task<int> RunAsync(int connections, CancellationToken cancellationToken)
    {
        var storage = Hosting.MariaDbHosting.PoolConnectionStrings(options.Value.ConnectionString)[0];
        var opening = Enumerable.Range(0, connections).Select(_ => ReadGrainStateAsync(storage, cancellationToken)).ToArray();
        var logged = await log.WarmUpAsync(connections, cancellationToken);
        await Task.WhenAll(opening);
        return logged + opening.Length;
    }

    // The read every grain activation makes (a row nobody has): MariaDB caches a procedure per session, on first call.
    private static async Task ReadGrainStateAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var read = new MySqlCommand("CALL sb_storage_read(0, 0, 0, 0, '~warm-up', NULL, '~warm-up')", connection);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // No grain has this id: nothing to read.
        }
    }
}
