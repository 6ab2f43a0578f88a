using System.Text;

namespace Switchboard.Bench.Load;

/// <summary>
/// The clients of one run, their connections, and the routing of every server frame to the record it
/// concerns. Request ids are <c>&lt;run tag&gt;&lt;segment&gt;-&lt;n&gt;</c> for messages and
/// <c>&lt;run tag&gt;c...</c> for setup requests; the run tag is random, so ids never repeat across runs (the
/// server dedupes send ids per user for 24 hours).
/// </summary>
internal sealed class LoadEngine : IClientEvents, IAsyncDisposable
{
    private const int MaxSegments = 4096;

    private readonly LoadOptions _options;
    private readonly DevApi _api;
    private readonly HttpMessageInvoker _socketInvoker;
    private readonly MessageBook?[] _books = new MessageBook?[MaxSegments];
    private readonly List<string> _nodes = [];
    private readonly Dictionary<string, long> _closeReasons = [];
    private readonly Dictionary<string, long> _unmatchedErrors = [];
    private readonly string?[] _tokens;
    private int _nextSegment;
    private volatile bool _closing;

    public LoadEngine(LoadOptions options, int clientCount, DevApi api)
    {
        _options = options;
        _api = api;
        RunTag = $"{Guid.NewGuid().ToString("N")[..8]}-";
        RunTagUtf8 = Encoding.UTF8.GetBytes(RunTag);
        _socketInvoker = BenchClient.SocketInvoker(options.Insecure);
        Clients = new BenchClient[clientCount];
        for (var i = 0; i < clientCount; i++)
        {
            Clients[i] = new BenchClient(i, i % options.Targets.Count, this, $"u{i}");
        }

        _tokens = new string?[clientCount];
    }

    public string RunTag { get; }

    public byte[] RunTagUtf8 { get; }

    public BenchClient[] Clients { get; }

    public TrafficCounters Counters { get; } = new();

    /// <summary>W5: every delivered message is answered with a <c>read</c> of it by its recipient.</summary>
    public bool AnswersWithRead => _options.Workload == "w5";

    public void CountReadSent() => Interlocked.Increment(ref Counters.ReadsSent);

    /// <summary>Node names in the order they were first seen in a welcome.</summary>
    public IReadOnlyList<string> Nodes
    {
        get
        {
            lock (_nodes)
            {
                return [.. _nodes];
            }
        }
    }

    public Dictionary<string, long> CloseReasons
    {
        get
        {
            lock (_closeReasons)
            {
                return new Dictionary<string, long>(_closeReasons);
            }
        }
    }

    public Dictionary<string, long> UnmatchedErrors
    {
        get
        {
            lock (_unmatchedErrors)
            {
                return new Dictionary<string, long>(_unmatchedErrors);
            }
        }
    }

    /// <summary>A new segment's book; it stays findable by its frames until <see cref="Retire"/>.</summary>
    public MessageBook NewBook(long capacity, long measuredMessages, long measuredDeliveries, GroupLayout? groups)
    {
        var segment = _nextSegment++;
        if (segment >= MaxSegments)
        {
            throw new InvalidOperationException($"more than {MaxSegments} segments in one run");
        }

        if (capacity > 50_000_000 || measuredDeliveries > 100_000_000)
        {
            throw new InvalidOperationException($"a segment of {capacity} messages and {measuredDeliveries} deliveries is more than this generator keeps in memory");
        }

        var book = new MessageBook(segment, (int)capacity, Clients, groups, (int)measuredDeliveries, (int)measuredMessages, Counters);
        Volatile.Write(ref _books[segment], book);
        return book;
    }

    /// <summary>Frees a finished segment; later frames of it count as stale.</summary>
    public void Retire(MessageBook book) => Volatile.Write(ref _books[book.Segment], null);

    /// <summary>Connects clients [from, from + count), <see cref="LoadOptions.ConnectParallel"/> at a time, each to its target.</summary>
    public async Task ConnectAsync(int from, int count, CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(
            Enumerable.Range(from, count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.ConnectParallel, CancellationToken = cancellationToken },
            async (i, ct) => await ConnectOneAsync(Clients[i], ct));
    }

    private async Task ConnectOneAsync(BenchClient client, CancellationToken cancellationToken)
    {
        var target = _options.Targets[client.Target];
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var token = _tokens[client.Index] ??= await _api.TokenAsync(target, client.User, "student", cancellationToken);
                var node = await client.ConnectAsync(target, token, _socketInvoker, TimeSpan.FromSeconds(30), cancellationToken);
                client.Node = NodeIndex(node);
                Interlocked.Increment(ref Counters.Connected);
                return;
            }
            catch (Exception exception) when (attempt < 3 && !cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine($"  {client.User}: connect attempt {attempt} failed ({exception.GetType().Name}: {exception.Message}); retrying");
                await Task.Delay(Backoff.FullJitter(attempt, baseMs: 500, capMs: 5_000), cancellationToken);
            }
        }
    }

    private int NodeIndex(string node)
    {
        lock (_nodes)
        {
            var index = _nodes.IndexOf(node);
            if (index < 0)
            {
                _nodes.Add(node);
                index = _nodes.Count - 1;
            }

            return index;
        }
    }

    /// <summary>Receive loops: one complete frame, stamped at <paramref name="nowMicros"/>.</summary>
    public void OnFrame(BenchClient client, ReadOnlySpan<byte> utf8, long nowMicros)
    {
        var frame = ServerFrame.Parse(utf8);
        switch (frame.Type)
        {
            case ServerFrameType.Message:
                if (TryFindMessage(frame.Id, out var book, out var n))
                {
                    book.OnDelivery(client, n, frame, nowMicros);
                    if (AnswersWithRead)
                    {
                        client.SendRead(frame.Conversation, frame.Seq);
                    }
                }

                break;
            case ServerFrameType.Ack when frame.Id.SequenceEqual("rd"u8):
                Interlocked.Increment(ref Counters.ReadsAcked);
                break;
            case ServerFrameType.Read:
                Interlocked.Increment(ref Counters.ReadReceipts);
                break;
            case ServerFrameType.Ack:
                if (!client.TryCompleteRequest(frame.Id, default) && TryFindMessage(frame.Id, out book, out n))
                {
                    book.OnAck(n, frame, nowMicros);
                }

                break;
            case ServerFrameType.Error:
                if (client.TryCompleteRequest(frame.Id, frame.Code.IsEmpty ? "error"u8 : frame.Code))
                {
                    break;
                }

                if (frame.Id.StartsWith(RunTagUtf8) && TryFindMessage(frame.Id, out book, out n))
                {
                    book.OnError(n, frame.Code);
                }
                else
                {
                    Interlocked.Increment(ref Counters.UnmatchedErrors);
                    Count(_unmatchedErrors, Encoding.UTF8.GetString(frame.Code));
                }

                break;
            case ServerFrameType.Welcome:
                client.OnWelcome(frame.Node);
                break;
            case ServerFrameType.Pong:
                break;
            default:
                Interlocked.Increment(ref Counters.UnknownFrames);
                break;
        }
    }

    /// <summary>Finds the book and number a request id names; counts foreign (not this run's) and stale ids.</summary>
    private bool TryFindMessage(ReadOnlySpan<byte> id, out MessageBook book, out int n)
    {
        book = null!;
        if (!SendFrame.TryParseId(id, RunTagUtf8, out var segment, out n) || segment >= MaxSegments)
        {
            Interlocked.Increment(ref Counters.ForeignFrames);
            return false;
        }

        var found = Volatile.Read(ref _books[segment]);
        if (found is null)
        {
            Interlocked.Increment(ref Counters.StaleFrames);
            return false;
        }

        book = found;
        return true;
    }

    public void OnClosed(BenchClient client, int? status, string? reason)
    {
        if (_closing)
        {
            return;
        }

        Interlocked.Increment(ref Counters.UnexpectedCloses);
        Count(_closeReasons, status is null ? $"aborted: {reason}" : $"{status} {reason}");
        Console.Error.WriteLine($"  {client.User}: socket closed by the server or the network ({(status is null ? "abort" : status.ToString())} {reason})");
    }

    private static void Count(Dictionary<string, long> counts, string key)
    {
        lock (counts)
        {
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>Closes every socket (close frame, then abort after 10 s) and waits for the receive loops.</summary>
    public async Task CloseAllAsync()
    {
        _closing = true;
        await BenchClient.CloseAllAsync(Clients);
        Interlocked.Exchange(ref Counters.Connected, 0);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_closing)
        {
            await CloseAllAsync();
        }

        _socketInvoker.Dispose();
    }
}
