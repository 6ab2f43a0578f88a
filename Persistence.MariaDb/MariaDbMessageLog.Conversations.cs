using MySqlConnector;
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
}
