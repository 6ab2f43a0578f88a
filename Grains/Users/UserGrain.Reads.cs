using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Connections;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Grains.Users;

/// <summary>
/// Read markers and typing (protocol 1.1): every marker of the user passes this activation, so it remembers the
/// markers it stored or read (a repeated <c>read</c> costs no storage call) and rate limits typing per conversation.
/// </summary>
internal sealed partial class UserGrain
{
    /// <summary>At most one typing notice per conversation is forwarded in this interval.</summary>
    internal static readonly TimeSpan TypingInterval = TimeSpan.FromSeconds(2);

    // Bounds what one activation remembers; past it the maps start again (markers reload from storage, typing forgets).
    private const int MostRemembered = 1024;

    // The stored markers this activation knows (never ahead of storage: set after a write completes, or from a read).
    private Dictionary<ConversationId, long>? _readMarkers;
    private Dictionary<ConversationId, long>? _typingForwarded;

    // Per direct conversation, the highest seq this activation has seen stored (sent by the user or delivered to it):
    // a read at or below it needs no look-up of the latest, which for a direct conversation is a query of the log.
    private Dictionary<ConversationId, long>? _seenStored;
    private IReadMarkers? _markerStore;

    private IReadMarkers MarkerStore => _markerStore ??= ServiceProvider.GetRequiredService<IReadMarkers>();

    public async Task<long> MarkReadAsync(Caller caller, ConversationId conversation, long seq, ConnectionId? origin)
    {
        if (caller.User != Id)
        {
            throw SwitchboardException.BadRequest("A user marks only its own reads.");
        }

        if (seq < 0)
        {
            throw SwitchboardException.BadRequest("'seq' must be a non-negative integer.");
        }

        var group = conversation.IsGroup ? GrainFactory.GetGroupGrain(conversation.Group) : null;
        if (group is not null)
        {
            await group.AuthorizeReadAsync(caller);
        }
        else if (!conversation.HasParticipant(Id))
        {
            throw SwitchboardException.Forbidden($"Only its participants read {conversation}.");
        }

        // At or below the stored marker, which is never past the latest: answered without asking for the latest.
        var stored = await KnownMarkerAsync(conversation);
        if (seq <= stored)
        {
            return stored;
        }

        if (group is not null || seq > SeenStored(conversation))
        {
            var latest = group is not null
                ? await group.GetLatestSeqAsync()
                : await MessageLogCalls.GuardAsync(() => log.GetLatestSeqAsync(conversation));
            if (seq > latest)
            {
                throw SwitchboardException.BadRequest($"{conversation} has no message {seq}: its latest is {latest}.");
            }
        }

        try
        {
            await MessageLogCalls.GuardAsync(static s => s.Store.MarkReadAsync(s.User, s.Conversation, s.Seq), (Store: MarkerStore, User: Id, Conversation: conversation, Seq: seq));
        }
        catch
        {
            // The write may have landed or not: read the marker again next time rather than trust this memory.
            _readMarkers?.Remove(conversation);
            throw;
        }

        stored = RememberMarker(conversation, seq);
        if (stored == seq)
        {
            PushRead(conversation, seq, origin);
        }

        return stored;
    }

    public async Task TypingAsync(Caller caller, ConversationId conversation)
    {
        if (caller.User != Id || !MayForwardTyping(conversation))
        {
            return;
        }

        var frame = ReceiptFrames.Typing(conversation, Id);
        try
        {
            if (conversation.IsGroup)
            {
                // The group decides who may post, and fans out as it does a message.
                await GrainFactory.GetGroupGrain(conversation.Group).TypingAsync(caller, frame);
            }
            else if (conversation.HasParticipant(Id))
            {
                var (first, second) = conversation.Participants;
                var peer = first == Id ? second : first;
                if (peer != Id)
                {
                    await GrainFactory.GetUserGrain(peer).DeliverAsync(new Delivery(conversation, 0, Id, null, frame));
                }
            }
        }
        catch (Exception exception)
        {
            // Best effort and unanswered: a typing notice is never worth an error.
            UserLog.TypingNotForwarded(logger, Id.Value, exception.GetType().Name);
        }
    }

    /// <summary>A send moved the sender's stored marker (the log does it in the send's own write): keep this memory in step.</summary>
    private void NoteOwnSend(SendReceipt receipt)
    {
        NoteStored(receipt.Conversation, receipt.Seq);
        if (_readMarkers is not null && _readMarkers.ContainsKey(receipt.Conversation))
        {
            RememberMarker(receipt.Conversation, receipt.Seq);
        }
    }

    /// <summary>
    /// A delivery reached this grain with <paramref name="seq"/>: every seq a delivery carries is stored (a message is
    /// delivered after its commit; a <c>read</c> or <c>deleted</c> frame names a stored seq; typing carries 0).
    /// </summary>
    private void NoteStored(ConversationId conversation, long seq)
    {
        if (seq <= 0 || conversation.IsGroup)
        {
            return;
        }

        KeepHighest(ref _seenStored, conversation, seq);
    }

    private long SeenStored(ConversationId conversation) => _seenStored?.GetValueOrDefault(conversation) ?? 0;

    private async ValueTask<long> KnownMarkerAsync(ConversationId conversation)
    {
        if (_readMarkers is not null && _readMarkers.TryGetValue(conversation, out var known))
        {
            return known;
        }

        var loaded = await MessageLogCalls.GuardAsync(() => MarkerStore.GetReadAsync(Id, conversation));
        return RememberMarker(conversation, loaded);
    }

    private long RememberMarker(ConversationId conversation, long seq) => KeepHighest(ref _readMarkers, conversation, seq);

    /// <summary>Remembers the higher of <paramref name="seq"/> and what <paramref name="map"/> holds; a full map starts again.</summary>
    private static long KeepHighest(ref Dictionary<ConversationId, long>? map, ConversationId conversation, long seq)
    {
        map ??= [];
        if (map.Count >= MostRemembered && !map.ContainsKey(conversation))
        {
            map.Clear();
        }

        var highest = Math.Max(seq, map.GetValueOrDefault(conversation));
        map[conversation] = highest;
        return highest;
    }

    /// <summary>The user's other sockets, and in a direct conversation the other participant's, learn the new marker.</summary>
    private void PushRead(ConversationId conversation, long seq, ConnectionId? origin)
    {
        var frame = ReceiptFrames.Read(conversation, Id, seq);
        if (CountConnections() - (origin is null ? 0 : 1) > 0)
        {
            DeliverToSockets(new Delivery(conversation, seq, Id, origin, frame));
        }

        if (!conversation.IsGroup)
        {
            var (first, second) = conversation.Participants;
            var peer = first == Id ? second : first;
            // One-way, as a message's delivery: the ack waits for storage, not for the peer's sockets.
            _ = GrainFactory.GetUserGrain(peer).DeliverAsync(new Delivery(conversation, seq, Id, null, frame));
        }
    }

    private bool MayForwardTyping(ConversationId conversation)
    {
        var now = time.GetTimestamp();
        _typingForwarded ??= [];
        if (_typingForwarded.TryGetValue(conversation, out var last) && time.GetElapsedTime(last, now) < TypingInterval)
        {
            return false;
        }

        if (_typingForwarded.Count >= MostRemembered)
        {
            // Only entries still inside their interval matter.
            foreach (var (key, at) in _typingForwarded)
            {
                if (time.GetElapsedTime(at, now) >= TypingInterval)
                {
                    _typingForwarded.Remove(key);
                }
            }
        }

        _typingForwarded[conversation] = now;
        return true;
    }
}

internal static partial class UserLog
{
    [LoggerMessage(EventId = 1010, Level = LogLevel.Debug, Message = "User {User}: a typing notice was not forwarded ({Reason})")]
    public static partial void TypingNotForwarded(ILogger logger, string user, string reason);
}
