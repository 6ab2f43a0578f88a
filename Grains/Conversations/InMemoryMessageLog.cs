using System.Collections.Concurrent;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Grains.Conversations;

/// <summary>
/// The log of the single-process default and of fast tests: everything in this process's memory, nothing
/// ever dropped. Every silo that should see the same log must share one instance.
/// </summary>
public sealed partial class InMemoryMessageLog : IMessageLog, ILogEpoch
{
    /// <summary>Made with the log: every silo sharing this log reports the same, and a new log a new one.</summary>
    public string Epoch { get; } = Guid.NewGuid().ToString("N");

    private readonly ConcurrentDictionary<ConversationId, ConversationLog> _conversations = new();
    private readonly ConcurrentDictionary<UserId, SenderRequests> _requests = new();
    private readonly ConcurrentDictionary<UserId, ConcurrentDictionary<ConversationId, byte>> _directByUser = new();

    public ValueTask AppendAsync(StoredMessage message, CancellationToken cancellationToken = default)
    {
        // As MariaDB's unique (sender, request_id): a request id is stored once, and a refused row stores nothing.
        var requests = _requests.GetOrAdd(message.From, static _ => new SenderRequests());
        if (!requests.TryAdd(message.RequestId, new SendReceipt(message.Conversation, message.Seq)))
        {
            return ValueTask.FromException(new DuplicateRequestException(message.RequestId));
        }

        try
        {
            _conversations.GetOrAdd(message.Conversation, static _ => new ConversationLog()).Append(message);
        }
        catch
        {
            requests.Remove(message.RequestId);
            throw;
        }

        if (!message.Conversation.IsGroup)
        {
            var (first, second) = message.Conversation.Participants;
            _directByUser.GetOrAdd(first, static _ => new())[message.Conversation] = 0;
            _directByUser.GetOrAdd(second, static _ => new())[message.Conversation] = 0;
        }

        // As the MariaDB log's trigger: the sender has read its own message.
        MoveMarker(message.From, message.Conversation, message.Seq);
        return ValueTask.CompletedTask;
    }

    public ValueTask<long> GetLatestSeqAsync(ConversationId conversation, CancellationToken cancellationToken = default)
    {
        if (!_conversations.TryGetValue(conversation, out var log))
        {
            return ValueTask.FromResult(0L);
        }

        Interlocked.Increment(ref log.LatestLookups);
        return ValueTask.FromResult(log.LatestSeq);
    }

    /// <summary>How often the latest seq of <paramref name="conversation"/> was asked for (in MariaDB, each is a query): tests count them.</summary>
    internal int LatestLookups(ConversationId conversation) =>
        _conversations.TryGetValue(conversation, out var log) ? Volatile.Read(ref log.LatestLookups) : 0;

    public ValueTask<HistoryPage> ReadAsync(ConversationId conversation, long after, int limit, long maxBytes, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_conversations.TryGetValue(conversation, out var log)
            ? log.Read(after, limit, maxBytes)
            : new HistoryPage([], Complete: true, More: false));

    public ValueTask<SendReceipt?> FindRequestAsync(UserId sender, string requestId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_requests.TryGetValue(sender, out var requests) ? requests.Find(requestId) : null);

    public ValueTask<UserId?> FindSenderAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_conversations.TryGetValue(conversation, out var log) ? log.Find(seq)?.From : null);

    public ValueTask<bool> EraseAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_conversations.TryGetValue(conversation, out var log) && log.Erase(seq));

    public ValueTask<IReadOnlyList<ConversationSummary>?> ListDirectConversationsAsync(UserId user, int limit, CancellationToken cancellationToken = default)
    {
        if (!_directByUser.TryGetValue(user, out var direct))
        {
            return ValueTask.FromResult<IReadOnlyList<ConversationSummary>?>([]);
        }

        var conversations = direct.Keys.Take(limit + 1).Select(c => new ConversationSummary(c, LatestSeq(c))).ToList();
        return ValueTask.FromResult<IReadOnlyList<ConversationSummary>?>(conversations.Count > limit ? null : conversations);
    }

    public ValueTask<IReadOnlyList<ConversationSummary>> ListConversationsAsync(UserId user, IReadOnlyCollection<ConversationId> groups, CancellationToken cancellationToken = default)
    {
        var result = new List<ConversationSummary>();
        if (_directByUser.TryGetValue(user, out var direct))
        {
            foreach (var conversation in direct.Keys)
            {
                result.Add(new ConversationSummary(conversation, LatestSeq(conversation)));
            }
        }

        foreach (var conversation in groups)
        {
            result.Add(new ConversationSummary(conversation, LatestSeq(conversation)));
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.Conversation.Value, b.Conversation.Value));
        return ValueTask.FromResult<IReadOnlyList<ConversationSummary>>(result);
    }

    private long LatestSeq(ConversationId conversation) =>
        _conversations.TryGetValue(conversation, out var log) ? log.LatestSeq : 0;

    private sealed class ConversationLog
    {
        public int LatestLookups;

        private readonly List<StoredMessage> _messages = [];
        private readonly Lock _lock = new();

        public long LatestSeq
        {
            get
            {
                lock (_lock)
                {
                    return _messages.Count;
                }
            }
        }

        public void Append(StoredMessage message)
        {
            lock (_lock)
            {
                // The sequencer is the only writer; anything but the next seq is a bug worth failing loudly on.
                if (message.Seq != _messages.Count + 1)
                {
                    throw new InvalidOperationException($"{message.Conversation}: expected seq {_messages.Count + 1}, got {message.Seq}.");
                }

                _messages.Add(message);
            }
        }

        public StoredMessage? Find(long seq)
        {
            lock (_lock)
            {
                return seq >= 1 && seq <= _messages.Count ? _messages[(int)(seq - 1)] : null;
            }
        }

        public bool Erase(long seq)
        {
            lock (_lock)
            {
                if (seq < 1 || seq > _messages.Count)
                {
                    return false;
                }

                // The record is replaced, not edited: the old body is no longer referenced by the log.
                var index = (int)(seq - 1);
                _messages[index] = _messages[index] with { Body = [], Deleted = true };
                return true;
            }
        }

        public HistoryPage Read(long after, int limit, long maxBytes)
        {
            lock (_lock)
            {
                var start = (int)Math.Clamp(after, 0, _messages.Count);
                var most = Math.Min(limit, _messages.Count - start);
                var count = 0;
                long bytes = 0;
                // The same rule as the MariaDB log: the first message always, then as many as fit the bytes.
                while (count < most && (count == 0 || bytes + _messages[start + count].Body.Length <= maxBytes))
                {
                    bytes += _messages[start + count].Body.Length;
                    count++;
                }

                var page = _messages.GetRange(start, count);
                return new HistoryPage(page, Complete: true, More: start + count < _messages.Count);
            }
        }
    }

    private sealed class SenderRequests
    {
        private readonly Dictionary<string, SendReceipt> _byId = new(StringComparer.Ordinal);
        private readonly Lock _lock = new();

        public bool TryAdd(string requestId, SendReceipt receipt)
        {
            lock (_lock)
            {
                return _byId.TryAdd(requestId, receipt);
            }
        }

        public void Remove(string requestId)
        {
            lock (_lock)
            {
                _byId.Remove(requestId);
            }
        }

        public SendReceipt? Find(string requestId)
        {
            lock (_lock)
            {
                return _byId.TryGetValue(requestId, out var receipt) ? receipt : null;
            }
        }
    }
}
