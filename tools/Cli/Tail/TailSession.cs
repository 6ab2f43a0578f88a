using System.Net.WebSockets;
using Switchboard.Cli.Client;
using Switchboard.Cli.Output;

namespace Switchboard.Cli.Tail;

/// <summary>
/// How a tail reconnects (the backoff, and how many failed attempts in a row before it gives up), when it stops, and
/// how long before its token's expiry it renews it (only when it can get tokens itself: dev tokens), and whether it
/// marks what it printed as read (1.1 <c>read</c> frames).
/// </summary>
public sealed record TailOptions(TimeSpan BackoffInitial, TimeSpan BackoffCap, int MaxAttempts, long? Count, TimeSpan RefreshAhead, bool MarkRead = false);

/// <summary>
/// <c>tail</c>: prints every message of the user's conversations as it arrives, and survives lost connections.
/// Before the first socket it notes each conversation's latest seq (the start line); on every (re)connect it lists
/// the conversations again and resumes each from the last seq printed, so across a reconnect nothing is missed or
/// printed twice. A conversation that appears after the start line is printed from its first message.
/// </summary>
/// <param name="renewToken">Gets a fresh token for the same user (dev tokens), or null when the tail cannot.</param>
public sealed class TailSession(Connection connection, RestClient rest, Printer printer, TailOptions options, Func<CancellationToken, Task<string>>? renewToken = null, Random? random = null)
{
    // Refreshes no more often than this, whatever --refresh-ahead says.
    private static readonly TimeSpan MinRefreshInterval = TimeSpan.FromSeconds(1);

    /// <summary>docs/protocol.md: a resume may name at most 200 conversations.</summary>
    private const int ResumeMaxConversations = 200;

    private readonly ConversationCursor<ServerFrame> _cursor = new();
    private readonly Backoff _backoff = new(options.BackoffInitial, options.BackoffCap, random);

    // Each resume in flight, with the position of every conversation it names when it was sent.
    private readonly Dictionary<string, Dictionary<string, long>> _pendingResumes = new(StringComparer.Ordinal);

    // Resumes in a row that brought a conversation nothing: after two, its gap is taken as gone (retention).
    private readonly Dictionary<string, int> _stalls = new(StringComparer.Ordinal);
    private string? _epoch;
    private bool _started;
    private Connection _connection = connection;
    private (string Id, string Token)? _pendingAuth;
    private long _printed;
    private int _nextResume;

    // --read: the markers the server has confirmed, what was printed past them, and the read frames awaiting their ack.
    private readonly Dictionary<string, long> _markers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _toMark = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Conversation, long Seq)> _readsInFlight = new(StringComparer.Ordinal);

    // --count reached: with --read, the tail waits for its last read acks before it exits.
    private bool _finishing;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var user = _connection.User;
        while (true)
        {
            CliError failure;
            ProtocolSocket? socket = null;
            try
            {
                if (!_started)
                {
                    foreach (var entry in await rest.ConversationsAsync(user, cancellationToken))
                    {
                        _cursor.Start(entry.Conversation, entry.Seq);
                        NoteMarker(entry.Conversation, entry.Read);
                    }

                    _started = true;
                }

                socket = await ProtocolSocket.ConnectAsync(_connection, cancellationToken);
                _backoff.Reset();
                var ended = await ServeAsync(socket, user, cancellationToken);
                if (ended is { } exitCode)
                {
                    return exitCode;
                }

                failure = new CliError(ExitCodes.ConnectionCode, $"the server closed the socket ({(int?)socket.CloseStatus} {socket.CloseDescription})");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl-C: a clean stop, not a failure.
                return ExitCodes.Ok;
            }
            catch (CliError error) when (error.Code is ExitCodes.ConnectionCode or "unavailable" or "rate_limited")
            {
                failure = error;
            }
            catch (CliError error)
            {
                printer.Error(error);
                return error.ExitCode;
            }
            catch (Exception exception) when (exception is WebSocketException or HttpRequestException or IOException)
            {
                failure = new CliError(ExitCodes.ConnectionCode, $"the connection broke: {RestClient.Describe(exception)}", exception);
            }
            finally
            {
                _pendingResumes.Clear();
                _stalls.Clear();
                _pendingAuth = null;
                _readsInFlight.Clear();
                if (socket is not null)
                {
                    await socket.DisposeAsync();
                }
            }

            if (_backoff.Attempt >= options.MaxAttempts)
            {
                printer.Error(new CliError(failure.Code, $"Gave up after {options.MaxAttempts} attempts in a row: {failure.Message}"));
                return failure.ExitCode;
            }

            var wait = _backoff.Next();
            printer.Status($"reconnecting in {wait.TotalSeconds:F2} s (attempt {_backoff.Attempt} of {options.MaxAttempts}): {failure.Message}");
            try
            {
                await Task.Delay(wait, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return ExitCodes.Ok;
            }
        }
    }

    /// <summary>Reads one socket until it closes: null to reconnect, or the exit code when the tail is over.</summary>
    private async Task<int?> ServeAsync(ProtocolSocket socket, string user, CancellationToken cancellationToken)
    {
        var welcome = socket.Welcome;
        if (_epoch is not null && welcome.Epoch != _epoch)
        {
            printer.Status("the server's history was replaced (a new epoch): reading every conversation again from its start");
            _cursor.Rewind();
        }

        _epoch = welcome.Epoch;
        printer.Status($"connected to {welcome.Node} as {welcome.User}");

        // After the socket is open, so a message acked from now on comes live or in this resume, or both (then dropped once).
        var since = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var entry in await rest.ConversationsAsync(user, cancellationToken))
        {
            NoteMarker(entry.Conversation, entry.Read);
            if (entry.Seq > _cursor.Last(entry.Conversation))
            {
                since[entry.Conversation] = _cursor.Last(entry.Conversation);
            }
        }

        await ResumeAsync(socket, since, cancellationToken);

        // Marks that were in flight when the last socket dropped go again (forward-only: a repeat changes nothing).
        await MarkAsync(socket, cancellationToken);
        var ready = new List<ServerFrame>();
        var refreshAt = RefreshTime();
        while (true)
        {
            // The receive stays pending while a refresh is sent: cancelling a socket's receive would abort the socket.
            var receiving = socket.ReceiveAsync(cancellationToken);
            while (refreshAt is { } due && !receiving.IsCompleted)
            {
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var delay = due - DateTimeOffset.UtcNow;
                var timer = Task.Delay(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, wake.Token);
                if (await Task.WhenAny(receiving, timer) == timer)
                {
                    refreshAt = null;
                    try
                    {
                        await RefreshAsync(socket, cancellationToken);
                    }
                    catch (CliError error)
                    {
                        // No new token now: the old one holds until its exp, and the 4001 then brings a reconnect that tries again.
                        printer.Status($"token refresh failed: {error.Code}: {error.Message}");
                    }
                }

                await wake.CancelAsync();
            }

            if (await receiving is not { } frame)
            {
                if (_finishing)
                {
                    // --count was reached: the reads still unacked are the server's to keep or lose, not a reason to reconnect.
                    return ExitCodes.Ok;
                }

                break;
            }

            ready.Clear();
            switch (frame.Type)
            {
                case "ack" when frame.Id is { } authId && _pendingAuth is { } auth && auth.Id == authId:
                    _connection = _connection with { Token = auth.Token };
                    _pendingAuth = null;
                    refreshAt = RefreshTime();
                    printer.Status($"token refreshed over the socket (auth), valid until {TokenClaims.Expiry(auth.Token):u}");
                    break;
                case "error" when frame.Id is { } authId && _pendingAuth is { } auth && auth.Id == authId:
                    // The old token holds until its exp; the 4001 then brings a reconnect with a fresh one.
                    _pendingAuth = null;
                    printer.Status($"token refresh refused: {frame.Code}: {frame.Message}");
                    break;
                case "message" when frame is { Conversation: { } conversation, Seq: { } seq }:
                    if (_cursor.Offer(conversation, seq, frame, ready) == Offer.Gap && !Resuming(conversation))
                    {
                        await ResumeAsync(socket, new Dictionary<string, long> { [conversation] = _cursor.Last(conversation) }, cancellationToken);
                    }

                    break;
                case "ack" when frame.Id is { } id && _pendingResumes.Remove(id, out var resumed):
                    if (frame.Recovered == false)
                    {
                        printer.Status("some messages had already been deleted by retention and cannot be replayed");
                    }

                    await ResumeAgainAsync(socket, resumed, frame.More == true, ready, cancellationToken);
                    break;
                case "error" when frame.Id is { } id && _pendingResumes.Remove(id):
                    printer.Status($"resume refused: {frame.Code}: {frame.Message}");
                    break;
                case "ack" when frame.Id is { } id && _readsInFlight.Remove(id, out var marked):
                    NoteMarker(marked.Conversation, frame.Read ?? 0);
                    if ((frame.Read ?? 0) < marked.Seq)
                    {
                        // Not what the protocol says (the marker is at or past what was read): stop rather than ask again forever.
                        _toMark.Remove(marked.Conversation);
                        printer.Status($"{marked.Conversation}: the server kept the read marker at {frame.Read}, below {marked.Seq}");
                    }

                    break;
                case "error" when frame.Id is { } id && _readsInFlight.Remove(id, out var refused):
                    _toMark.Remove(refused.Conversation);
                    printer.Status($"{refused.Conversation}: read refused: {frame.Code}: {frame.Message}");
                    break;
                case "read" when frame is { Conversation: { } conversation, User: { } reader, Seq: { } seq }:
                    if (reader == user)
                    {
                        // Another device of this user read it: no need to say so again.
                        NoteMarker(conversation, seq);
                    }

                    printer.Frame(frame, $"{conversation}: {reader} read up to #{seq}");
                    break;
                case "typing" when frame is { Conversation: { } conversation, User: { } typist }:
                    printer.Frame(frame, $"{conversation}: {typist} is typing");
                    break;
                case "deleted" when frame is { Conversation: { } conversation, Seq: { } seq }:
                    printer.Frame(frame, $"{conversation} #{seq} deleted by {frame.By}");
                    break;
            }

            foreach (var message in ready)
            {
                if (_finishing)
                {
                    break;
                }

                printer.Message(message);
                if (options.MarkRead && message is { Conversation: { } conversation, Seq: { } seq })
                {
                    _toMark[conversation] = Math.Max(seq, _toMark.GetValueOrDefault(conversation));
                }

                _finishing = ++_printed >= options.Count;
            }

            await MarkAsync(socket, cancellationToken);
            if (_finishing && _readsInFlight.Count == 0)
            {
                return ExitCodes.Ok;
            }
        }

        return socket.CloseStatus switch
        {
            (WebSocketCloseStatus)4003 => Fail(new CliError(ExitCodes.DisconnectedCode, "An administrator disconnected this user: sign in again for a new token.")),
            (WebSocketCloseStatus)4001 when renewToken is not null => await RenewForReconnectAsync(cancellationToken),
            (WebSocketCloseStatus)4001 => Fail(new CliError("unauthorized", "The token expired: get a new one.")),
            WebSocketCloseStatus.InvalidMessageType or WebSocketCloseStatus.MessageTooBig =>
                Fail(new CliError("bad_request", $"The server closed the socket with {(int)socket.CloseStatus!}: this client sent what the protocol forbids.")),
            _ => null,
        };
    }

    /// <summary>When to send the next <c>auth</c>: <c>--refresh-ahead</c> before the token's exp, or never without a way to get tokens.</summary>
    private DateTimeOffset? RefreshTime()
    {
        if (renewToken is null || TokenClaims.Expiry(_connection.Token) is not { } expiry)
        {
            return null;
        }

        var due = expiry - options.RefreshAhead;
        var soonest = DateTimeOffset.UtcNow + MinRefreshInterval;
        return due > soonest ? due : soonest;
    }

    private async Task RefreshAsync(ProtocolSocket socket, CancellationToken cancellationToken)
    {
        var token = await renewToken!(cancellationToken);
        var id = $"auth-{++_nextResume}";
        _pendingAuth = (id, token);
        await socket.SendAsync(new AuthFrame(id, token), CliJson.Default.AuthFrame, cancellationToken);
    }

    /// <summary>The socket closed with 4001 (the token expired): with a new token the next connection carries on.</summary>
    private async Task<int?> RenewForReconnectAsync(CancellationToken cancellationToken)
    {
        _connection = _connection with { Token = await renewToken!(cancellationToken) };
        printer.Status("the token expired: reconnecting with a new one");
        return null;
    }

    private int Fail(CliError error)
    {
        printer.Error(error);
        return error.ExitCode;
    }

    private void NoteMarker(string conversation, long read)
    {
        if (read > _markers.GetValueOrDefault(conversation))
        {
            _markers[conversation] = read;
        }
    }

    /// <summary>
    /// --read: one <c>read</c> frame per conversation printed past its marker, and no second one while the first is
    /// unacked, so a burst of messages costs one frame per conversation and ack (batched), never a backward move.
    /// </summary>
    private async Task MarkAsync(ProtocolSocket socket, CancellationToken cancellationToken)
    {
        foreach (var (conversation, seq) in _toMark.ToList())
        {
            if (seq <= _markers.GetValueOrDefault(conversation))
            {
                _toMark.Remove(conversation);
                continue;
            }

            if (_readsInFlight.Values.Any(r => r.Conversation == conversation))
            {
                continue;
            }

            var id = $"read-{++_nextResume}";
            _readsInFlight[id] = (conversation, seq);
            await socket.SendAsync(new ReadFrame(id, conversation, seq), CliJson.Default.ReadFrame, cancellationToken);
        }
    }

    private bool Resuming(string conversation) => _pendingResumes.Values.Any(c => c.ContainsKey(conversation));

    /// <summary>
    /// After a resume's ack: resume again where a gap remains (or the server said <c>more</c>) and the last one made
    /// progress; where two in a row brought nothing, the missing messages are gone: skip them, print what follows.
    /// </summary>
    private async Task ResumeAgainAsync(ProtocolSocket socket, Dictionary<string, long> resumed, bool more, List<ServerFrame> ready, CancellationToken cancellationToken)
    {
        var again = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (conversation, from) in resumed)
        {
            if (!more && !_cursor.Behind(conversation))
            {
                _stalls.Remove(conversation);
                continue;
            }

            if (_cursor.Last(conversation) > from || _stalls.GetValueOrDefault(conversation) < 1)
            {
                _stalls[conversation] = _cursor.Last(conversation) > from ? 0 : 1;
                again[conversation] = _cursor.Last(conversation);
                continue;
            }

            _stalls.Remove(conversation);
            if (_cursor.SkipGap(conversation, ready) is var (first, last))
            {
                printer.Status($"{conversation}: messages {first} to {last} are no longer stored; skipped");
            }

            if (_cursor.Behind(conversation))
            {
                again[conversation] = _cursor.Last(conversation);
            }
        }

        await ResumeAsync(socket, again, cancellationToken);
    }

    private async Task ResumeAsync(ProtocolSocket socket, Dictionary<string, long> since, CancellationToken cancellationToken)
    {
        foreach (var chunk in since.Chunk(ResumeMaxConversations))
        {
            var id = $"resume-{++_nextResume}";
            var from = chunk.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
            _pendingResumes[id] = from;
            await socket.SendAsync(new ResumeFrame(id, from), CliJson.Default.ResumeFrame, cancellationToken);
        }
    }
}
