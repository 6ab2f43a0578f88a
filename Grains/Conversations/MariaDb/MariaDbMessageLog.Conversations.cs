using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Identity;

namespace Switchboard.Grains.Conversations.MariaDb;

public sealed partial class MariaDbMessageLog
{
    public async ValueTask<IReadOnlyCollection<ConversationId>?> ListDirectConversationsAsync(UserId user, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT conversation FROM sb_user_conversations WHERE user_id = @u LIMIT @limit", connection);
        command.Parameters.AddWithValue("@u", user.Value);
        command.Parameters.AddWithValue("@limit", limit + 1);
        var conversations = new List<ConversationId>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            conversations.Add(ParseConversation(reader.GetString(0)));
        }

        return conversations.Count > limit ? null : conversations;
    }
}
