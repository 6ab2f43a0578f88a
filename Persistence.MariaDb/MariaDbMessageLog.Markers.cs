using MySqlConnector;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;

namespace Switchboard.Persistence.MariaDb;

/// <summary>
/// Read markers in <c>sb_read_markers</c> (deploy/sql/005-read-markers.sql). A marker write goes to the log's marker
/// writer, which gathers markers for <see cref="MessageLogOptions.MarkerDelay"/> and commits them in one upsert: it is as
/// durable as a message when it completes, and markers cost a commit per interval, not per read. The sender's own
/// marker moves inside each message's INSERT (a trigger), so a send adds no statement here.
/// </summary>
public sealed partial class MariaDbMessageLog : IReadMarkers
{
    // A marker row's share of a commit's text: three parameters, short ids.
    private const long MarkerSqlBytes = 2L * (64 + 140) + 64;

    public ValueTask MarkReadAsync(UserId user, ConversationId conversation, long seq, CancellationToken cancellationToken = default) =>
        EnqueueAsync(new PendingAppend(new ReadMarker(user, conversation, seq)), cancellationToken);

    public async ValueTask<long> GetReadAsync(UserId user, ConversationId conversation, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT seq FROM sb_read_markers WHERE user_id = @u AND conversation = @c", connection);
        command.Parameters.AddWithValue("@u", user.Value);
        command.Parameters.AddWithValue("@c", conversation.Value);
        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is null or DBNull ? 0 : Convert.ToInt64(result, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask<IReadOnlyDictionary<ConversationId, long>> GetReadMarkersAsync(UserId user, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT conversation, seq FROM sb_read_markers WHERE user_id = @u", connection);
        command.Parameters.AddWithValue("@u", user.Value);
        var markers = new Dictionary<ConversationId, long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            markers[ParseConversation(reader.GetString(0))] = reader.GetInt64(1);
        }

        return markers;
    }

    public async ValueTask<IReadOnlyList<UserId>> GetReadersAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default)
    {
        // One range of IX_sb_read_markers_conversation, read from the index alone.
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT user_id FROM sb_read_markers WHERE conversation = @c AND seq >= @s", connection);
        command.Parameters.AddWithValue("@c", conversation.Value);
        command.Parameters.AddWithValue("@s", seq);
        var readers = new List<UserId>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            readers.Add(new UserId(reader.GetString(0)));
        }

        return readers;
    }

    /// <summary>A marker waiting for its commit.</summary>
    private sealed record ReadMarker(UserId User, ConversationId Conversation, long Seq);
}
