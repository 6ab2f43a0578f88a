using System.Diagnostics;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Switchboard.Cluster.Security.Tokens;
using Switchboard.Conversations;
using Switchboard.Grains.Limits;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Auth;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Conversations;
using Switchboard.Silo.Diagnostics;

namespace Switchboard.Silo.WebSockets;

/// <summary>Handles one client frame of a socket: parse, rate limit, dispatch to grains, answer.</summary>
public sealed class SocketRequestHandler(
    IGrainFactory grainFactory,
    ConversationReader reader,
    TokenValidator tokens,
    TokenRevocations revocations,
    OpenSockets sockets,
    IOptions<SocketOptions> options,
    SwitchboardMetrics metrics,
    ILogger<SocketRequestHandler> logger)
{
    /// <summary>Handles one client frame (pooled state machines: one per frame was the handler's own garbage).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask HandleAsync(WebSocketSession session, ReadOnlyMemory<byte> utf8, RateLimiter limiter)
    {
        var parsed = ClientFrame.TryParse(utf8.Span, out var frame, out var parseError);
        if (!limiter.TryTake())
        {
            await Reply(session, ServerFrames.Error(frame.Id, ProtocolError.RateLimited, "Too many frames; slow down."), ProtocolError.RateLimited);
            if (limiter.Strikes >= options.Value.RateLimitStrikes)
            {
                session.Close((WebSocketCloseStatus)CloseCodes.RateLimited, "rate limit exceeded repeatedly");
            }

            return;
        }

        if (!parsed)
        {
            await Reply(session, ServerFrames.Error(null, ProtocolError.BadRequest, parseError), ProtocolError.BadRequest);
            return;
        }

        if (frame.Type == ClientFrameType.Typing)
        {
            await TypingAsync(session, frame);
            return;
        }

        if (frame.Id is null)
        {
            await Reply(session, ServerFrames.Error(null, ProtocolError.BadRequest, "Every request needs an 'id' of 1 to 64 characters."), ProtocolError.BadRequest);
            return;
        }

        try
        {
            switch (frame.Type)
            {
                case ClientFrameType.Send:
                    await SendAsync(session, frame, frame.Id);
                    break;
                case ClientFrameType.Join:
                    await grainFactory.GetGroupGrain(ParseGroup(frame)).JoinAsync(session.Caller);
                    await session.SendReplyAsync(ServerFrames.Ack(frame.Id));
                    break;
                case ClientFrameType.Leave:
                    await grainFactory.GetGroupGrain(ParseGroup(frame)).LeaveAsync(session.Caller);
                    await session.SendReplyAsync(ServerFrames.Ack(frame.Id));
                    break;
                case ClientFrameType.Resume:
                    await ResumeAsync(session, frame, frame.Id);
                    break;
                case ClientFrameType.Ping:
                    await session.SendReplyAsync(ServerFrames.Pong(frame.Id));
                    break;
                case ClientFrameType.Read:
                    await ReadAsync(session, frame, frame.Id);
                    break;
                case ClientFrameType.Auth:
                    await RefreshTokenAsync(session, frame.Token);
                    await session.SendReplyAsync(ServerFrames.Ack(frame.Id));
                    break;
                default:
                    throw SwitchboardException.BadRequest(frame.TypeName is null
                        ? "Every request needs a 'type'."
                        : $"Unknown type '{frame.TypeName}'.");
            }
        }
        catch (Exception exception)
        {
            var (code, message) = ErrorMapping.ToError(exception);
            if (ErrorMapping.IsUnexpected(exception))
            {
                ConnectionLog.RequestFailed(logger, session.Id.Value, frame.TypeName ?? "?", exception);
            }
            else if (code == ProtocolError.Unavailable)
            {
                ConnectionLog.RequestUnavailable(logger, session.Id.Value, frame.TypeName ?? "?", exception.GetType().Name, exception.Message);
            }

            await Reply(session, ServerFrames.Error(frame.Id, code, message), code);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAsync(WebSocketSession session, ClientFrame frame, string id)
    {
        if (!Recipient.TryParse(frame.To, out var to))
        {
            throw SwitchboardException.BadRequest("'to' must be user:<id> or group:<id>.");
        }

        if (frame.Body is null)
        {
            throw SwitchboardException.BadRequest("'body' is required (any JSON value).");
        }

        var started = Stopwatch.GetTimestamp();
        var command = new SendCommand(session.Caller, id, to, frame.Body, session.Id);
        var receipt = await grainFactory.GetUserGrain(session.User).SendAsync(command);
        await session.SendReplyAsync(ServerFrames.SendAck(id, receipt.Conversation, receipt.Seq));
        metrics.SendCompleted(Stopwatch.GetElapsedTime(started));
    }

    private static readonly ParallelOptions s_authorizeInParallel = new() { MaxDegreeOfParallelism = 8 };

    private async Task ResumeAsync(WebSocketSession session, ClientFrame frame, string id)
    {
        if (frame.SinceError is not null)
        {
            throw SwitchboardException.BadRequest(frame.SinceError);
        }

        if (frame.Since is null)
        {
            throw SwitchboardException.BadRequest("'since' is required: an object mapping conversation ids to the last seq held.");
        }

        var most = options.Value.ResumeMaxConversations;
        if (frame.Since.Count > most)
        {
            throw SwitchboardException.BadRequest($"A resume names at most {most} conversations ({frame.Since.Count} given); split it.");
        }

        var wanted = new List<(ConversationId Conversation, long After)>(frame.Since.Count);
        foreach (var (key, after) in frame.Since)
        {
            if (!ConversationId.TryParse(key, out var conversation))
            {
                throw SwitchboardException.BadRequest($"'{key}' is not a conversation id.");
            }

            wanted.Add((conversation, after));
        }

        // Refused whole: nothing is replayed unless every conversation may be read.
        // A few at a time: one frame must not start hundreds of grain activations and storage reads at once.
        await Parallel.ForEachAsync(wanted, s_authorizeInParallel, async (w, _) => await reader.AuthorizeAsync(session.Caller, w.Conversation));

        var recovered = true;
        var more = false;
        var cap = options.Value.ResumeCap;
        foreach (var (conversation, from) in wanted)
        {
            // Several reads of at most the history byte budget each, until the cap or the end: a resume never holds
            // more than one read's bodies at once, and more/recovered are as if it had read the cap in one.
            var after = from;
            var left = cap;
            HistoryPage page;
            do
            {
                page = await reader.ReadAsync(conversation, after, left, CancellationToken.None);
                foreach (var message in page.Messages)
                {
                    if (!await session.SendReplayAsync(MessageFrame.Serialize(message)))
                    {
                        // Closing: nobody is left to ack.
                        return;
                    }
                }

                recovered &= page.Complete;
                left -= page.Messages.Count;
                after = page.Messages.Count > 0 ? page.Messages[^1].Seq : after;
            }
            while (page.More && left > 0 && page.Messages.Count > 0);

            more |= page.More;
        }

        await session.SendReplyAsync(ServerFrames.ResumeAck(id, recovered, more));
    }

    /// <summary>
    /// <c>auth</c>: the socket takes a new token of the same user (its role, expiry and issue time) without
    /// reconnecting. Any refusal leaves the old token in place, closing the socket at its own expiry.
    /// </summary>
    private async Task RefreshTokenAsync(WebSocketSession session, string? raw)
    {
        if (string.IsNullOrEmpty(raw))
        {
            throw SwitchboardException.BadRequest("'token' is required: the new bearer token.");
        }

        var token = await tokens.ValidateAsync(raw);
        if (token is null || !UserId.TryParse(token.Subject, out var user))
        {
            throw new SwitchboardException(ProtocolError.Unauthorized, "The token is not valid; the connection keeps its current one.");
        }

        if (user != session.User)
        {
            throw SwitchboardException.Forbidden("The token is for another user; the connection keeps its current one.");
        }

        if (await revocations.IsRevokedAsync(user, token.IssuedAt))
        {
            throw new SwitchboardException(ProtocolError.Unauthorized, AuthenticationSetup.RevokedMessage);
        }

        session.Refresh(new Caller(user, token.Role ?? string.Empty), token.IssuedAt);
        sockets.Refresh(session, token.Expires);
        ConnectionLog.TokenRefreshed(logger, session.Id.Value, user.Value, token.Role ?? string.Empty);
    }

    /// <summary><c>read</c> (protocol 1.1): the marker is stored before the ack, which carries the stored one.</summary>
    private async Task ReadAsync(WebSocketSession session, ClientFrame frame, string id)
    {
        var conversation = ParseConversation(frame);
        if (frame.Seq is not { } seq)
        {
            throw SwitchboardException.BadRequest("'seq' is required: a non-negative integer.");
        }

        var stored = await grainFactory.GetUserGrain(session.User).MarkReadAsync(session.Caller, conversation, seq, session.Id);
        await session.SendReplyAsync(ServerFrames.ReadAck(id, conversation, stored));
    }

    /// <summary>
    /// <c>typing</c> (protocol 1.1): no id and no reply; one-way to the user's grain, which rate limits and forwards it.
    /// Only a frame that cannot name a conversation is answered, so a client's bug does not go unseen.
    /// </summary>
    private async Task TypingAsync(WebSocketSession session, ClientFrame frame)
    {
        if (!ConversationId.TryParse(frame.Conversation, out var conversation))
        {
            await Reply(session, ServerFrames.Error(frame.Id, ProtocolError.BadRequest, "'conversation' must be a conversation id."), ProtocolError.BadRequest);
            return;
        }

        await grainFactory.GetUserGrain(session.User).TypingAsync(session.Caller, conversation);
    }

    private static ConversationId ParseConversation(ClientFrame frame) =>
        ConversationId.TryParse(frame.Conversation, out var conversation)
            ? conversation
            : throw SwitchboardException.BadRequest("'conversation' must be a conversation id (dm:<user>:<user> or group:<id>).");

    private static GroupId ParseGroup(ClientFrame frame) =>
        GroupId.TryParse(frame.Group, out var group)
            ? group
            : throw SwitchboardException.BadRequest("'group' must be a group id: 1 to 64 characters of A-Z a-z 0-9 . _ -");

    private async Task Reply(WebSocketSession session, byte[] frame, ProtocolError code)
    {
        metrics.Error(code.ToWire());
        await session.SendReplyAsync(frame);
    }
}

/// <summary>A per-socket token bucket; counts consecutive refusals.</summary>
public sealed class RateLimiter(double perSecond, int burst, TimeProvider time)
{
    private readonly TokenBucket _bucket = new(perSecond, burst, time);

    public int Strikes { get; private set; }

    public bool TryTake()
    {
        if (_bucket.TryTake())
        {
            Strikes = 0;
            return true;
        }

        Strikes++;
        return false;
    }
}
