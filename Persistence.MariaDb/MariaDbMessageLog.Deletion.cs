using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Identity;

namespace Switchboard.Persistence.MariaDb;

public sealed partial class MariaDbMessageLog
{
    public async ValueTask<UserId?> FindSenderAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT sender FROM sb_messages WHERE conversation = @c AND seq = @s", connection);
        command.Parameters.AddWithValue("@c", conversation.Value);
        command.Parameters.AddWithValue("@s", seq);
        return await command.ExecuteScalarAsync(cancellationToken) is string sender ? new UserId(sender) : null;
    }

    public async ValueTask<bool> EraseAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // The body itself goes (NULL), not a flag beside it; the row stays so the seq keeps its place.
        await using var command = new MySqlCommand(
            "UPDATE sb_messages SET body = NULL, deleted = 1 WHERE conversation = @c AND seq = @s", connection);
        command.Parameters.AddWithValue("@c", conversation.Value);
        command.Parameters.AddWithValue("@s", seq);
        if (await command.ExecuteNonQueryAsync(cancellationToken) > 0)
        {
            return true;
        }

        // None counted: no such row, or (with UseAffectedRows in the connection string) one erased already.
        return await FindSenderAsync(conversation, seq, cancellationToken) is not null;
    }
}
