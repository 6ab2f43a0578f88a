using System.Text;
using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Persistence.MariaDb;

public sealed partial class MariaDbMessageLog
{
    public async ValueTask<IReadOnlyList<ConversationSummary>?> ListDirectConversationsAsync(UserId user, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var conversations = await ReadDirectConversationsAsync(connection, user, limit, cancellationToken);
        return conversations.Count > limit ? null : conversations;
    }

    /// <summary>Up to <paramref name="limit"/> + 1 of the user's direct conversations with their latest seq, in one round trip.</summary>
    private static async Task<List<ConversationSummary>> ReadDirectConversationsAsync(MySqlConnection connection, UserId user, int limit, CancellationToken cancellationToken)
    {
        // Each latest seq is one descent of the primary key.
        await using var command = new MySqlCommand(
            "SELECT uc.conversation, (SELECT MAX(m.seq) FROM sb_messages m WHERE m.conversation = uc.conversation) " +
            "FROM sb_user_conversations uc WHERE uc.user_id = @u LIMIT @limit", connection);
        command.Parameters.AddWithValue("@u", user.Value);
        command.Parameters.AddWithValue("@limit", limit + 1);
        var conversations = new List<ConversationSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // A listed conversation always has a message (the first is written with the index row, and retention keeps
            // each conversation's latest).
            conversations.Add(new ConversationSummary(ParseConversation(reader.GetString(0)), reader.IsDBNull(1) ? 0 : reader.GetInt64(1)));
        }

        return conversations;
    }

    // A statement takes at most 65,535 placeholders; a user in more groups than that still gets a list.
    private const int GroupsPerStatement = 1000;

    /// <summary>The latest seq of each of <paramref name="groups"/> that has a message, in chunks of IN lists.</summary>
    private static async Task<Dictionary<ConversationId, long>> ReadGroupLatestAsync(MySqlConnection connection, IReadOnlyCollection<ConversationId> groups, CancellationToken cancellationToken)
    {
        var latest = new Dictionary<ConversationId, long>();
        var sql = new StringBuilder();
        foreach (var chunk in groups.Chunk(GroupsPerStatement))
        {
            sql.Clear().Append("SELECT conversation, MAX(seq) FROM sb_messages WHERE conversation IN (");
            await using var command = new MySqlCommand { Connection = connection };
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(i == 0 ? "@g0" : $", @g{i}");
                command.Parameters.AddWithValue($"@g{i}", chunk[i].Value);
            }

            command.CommandText = sql.Append(") GROUP BY conversation").ToString();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                latest[ParseConversation(reader.GetString(0))] = reader.GetInt64(1);
            }
        }

        return latest;
    }
}
