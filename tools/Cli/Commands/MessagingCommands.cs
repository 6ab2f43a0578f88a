using System.CommandLine;
using System.Text.Json;
using Switchboard.Cli.Client;
using Switchboard.Cli.Tail;

namespace Switchboard.Cli.Commands;

/// <summary>send, tail, history and conversations: the messaging half of the protocol.</summary>
public static class MessagingCommands
{
    public static Command Send(CommonOptions common, CliEnvironment environment)
    {
        var to = new Argument<string>("to") { Description = "user:ID or group:ID." };
        var text = new Argument<string?>("text") { Description = "The message; sent as the body {\"text\": TEXT}, as the chat page does.", Arity = ArgumentArity.ZeroOrOne };
        var body = new Option<string?>("--body") { Description = "The body as raw JSON (any JSON value) instead of TEXT." };
        var id = new Option<string?>("--id") { Description = "The request id (default a new UUID). Resending with the same id is a retry: stored once." };
        var command = new Command("send", "Send a message over the socket; print the ack (conversation and seq).") { to, text, body, id };
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var target = parse.GetValue(to)!;
            if (!target.StartsWith("user:", StringComparison.Ordinal) && !target.StartsWith("group:", StringComparison.Ordinal))
            {
                throw new CliError("bad_request", $"'to' is user:ID or group:ID, not '{target}'.");
            }

            var payload = Body(parse.GetValue(text), parse.GetValue(body));
            var connection = await invocation.ConnectAsync(cancellationToken);
            await using var socket = await ProtocolSocket.ConnectAsync(connection, cancellationToken);
            var requestId = parse.GetValue(id) ?? Guid.NewGuid().ToString();
            var reply = await socket.RequestAsync(requestId, new SendFrame(requestId, target, payload), CliJson.Default.SendFrame, cancellationToken);
            if (reply.Type == "error")
            {
                throw new CliError(reply.Code ?? ExitCodes.ConnectionCode, reply.Message ?? "The server refused the message.");
            }

            if (invocation.Printer.Json)
            {
                invocation.Printer.Line(reply.Raw);
            }
            else
            {
                invocation.Printer.Line($"sent to {target}: {reply.Conversation} #{reply.Seq} (id {requestId})");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Tail(CommonOptions common, CliEnvironment environment)
    {
        var count = new Option<long?>("--count", "-n") { Description = "Exit after printing this many messages (default: until Ctrl-C)." };
        var attempts = new Option<int>("--max-attempts") { Description = "Give up after this many failed reconnects in a row.", DefaultValueFactory = _ => 10 };
        var initial = new Option<double>("--backoff-initial") { Description = "Seconds: the first reconnect waits up to this long.", DefaultValueFactory = _ => 0.5 };
        var cap = new Option<double>("--backoff-cap") { Description = "Seconds: no reconnect waits longer.", DefaultValueFactory = _ => 30 };
        var ahead = new Option<double>("--refresh-ahead") { Description = "Seconds before the token's expiry to renew it over the socket (auth, protocol 1.1); only with --user (dev tokens).", DefaultValueFactory = _ => 300 };
        var markRead = new Option<bool>("--read") { Description = "Mark what it prints as read (read frames, batched, forward-only), so the server's unread counts follow this terminal." };
        var command = new Command("tail", "Print every message of your conversations as it arrives, and who reads, types and deletes; reconnect and resume when the connection drops.") { count, attempts, initial, cap, ahead, markRead };
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var options = new TailOptions(
                Seconds(parse.GetValue(initial), "--backoff-initial"), Seconds(parse.GetValue(cap), "--backoff-cap"), parse.GetValue(attempts), parse.GetValue(count),
                parse.GetValue(ahead) is >= 0 and <= 30 * 86400 and var refresh ? TimeSpan.FromSeconds(refresh) : throw new CliError("bad_request", "--refresh-ahead is seconds, 0 to 30 days."),
                parse.GetValue(markRead));
            if (options.BackoffCap < options.BackoffInitial || options.MaxAttempts < 0 || options.Count <= 0)
            {
                throw new CliError("bad_request", "Need --backoff-initial <= --backoff-cap, --max-attempts >= 0 and --count > 0.");
            }

            var connection = await invocation.ConnectAsync(cancellationToken);
            using var rest = new RestClient(connection.Server, connection.Token, connection.Insecure);
            return await new TailSession(connection, rest, invocation.Printer, options, invocation.RenewToken).RunAsync(cancellationToken);
        });
        return command;
    }

    public static Command History(CommonOptions common, CliEnvironment environment)
    {
        var conversation = new Argument<string>("conversation") { Description = "dm:A:B (A < B in ordinal order) or group:ID." };
        var after = new Option<long>("--after") { Description = "Start after this seq.", DefaultValueFactory = _ => 0 };
        var limit = new Option<int>("--limit") { Description = "Print at most this many messages.", DefaultValueFactory = _ => 100 };
        var pageSize = new Option<int>("--page-size") { Description = "Messages asked for per request (the server allows up to 1,000).", DefaultValueFactory = _ => 100 };
        var command = new Command("history", "Print a conversation's stored messages, oldest first, page by page.") { conversation, after, limit, pageSize };
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var (wanted, size) = (parse.GetValue(limit), parse.GetValue(pageSize));
            if (wanted <= 0 || size is <= 0 or > 1000)
            {
                throw new CliError("bad_request", "Need --limit > 0 and --page-size between 1 and 1000.");
            }

            var connection = await invocation.ConnectAsync(cancellationToken);
            using var rest = new RestClient(connection.Server, connection.Token, connection.Insecure);
            var (last, printed) = (parse.GetValue(after), 0);
            while (printed < wanted)
            {
                // A page may hold fewer than asked although more follow (the server's byte budget): only an empty page ends it.
                var page = await rest.HistoryPageAsync(parse.GetValue(conversation)!, last, Math.Min(size, wanted - printed), cancellationToken);
                if (page.Count == 0)
                {
                    break;
                }

                foreach (var message in page.Take(wanted - printed))
                {
                    invocation.Printer.Message(message);
                    last = message.Seq ?? last;
                    printed++;
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Conversations(CommonOptions common, CliEnvironment environment)
    {
        var user = new Argument<string?>("user") { Description = "Whose (default: the token's user; others need the role admin).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("conversations", "List a user's conversations with their latest seq, read marker and unread count.") { user };
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var connection = await invocation.ConnectAsync(cancellationToken);
            using var rest = new RestClient(connection.Server, connection.Token, connection.Insecure);
            foreach (var entry in await rest.ConversationsAsync(parse.GetValue(user) ?? connection.User, cancellationToken))
            {
                invocation.Printer.Result(entry, CliJson.Default.ConversationSeq, $"{entry.Conversation} #{entry.Seq} read {entry.Read} unread {entry.Unread}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Presence(CommonOptions common, CliEnvironment environment)
    {
        var user = new Argument<string>("user") { Description = "The user." };
        var command = new Command("presence", "Whether a user is online, and with how many connections.") { user };
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var connection = await invocation.ConnectAsync(cancellationToken);
            using var rest = new RestClient(connection.Server, connection.Token, connection.Insecure);
            var presence = await rest.PresenceAsync(parse.GetValue(user)!, cancellationToken);
            invocation.Printer.Result(presence, CliJson.Default.Presence,
                presence.Online ? $"{presence.User} online, {presence.Connections} connection(s)" : $"{presence.User} offline");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static JsonElement Body(string? text, string? raw)
    {
        if (raw is not null)
        {
            try
            {
                return JsonDocument.Parse(raw).RootElement.Clone();
            }
            catch (JsonException exception)
            {
                throw new CliError("bad_request", $"--body is not JSON: {exception.Message}");
            }
        }

        return text is null
            ? throw new CliError("bad_request", "Give the message TEXT, or its body as --body JSON.")
            : JsonSerializer.SerializeToElement(new Dictionary<string, JsonElement> { ["text"] = JsonSerializer.SerializeToElement(text, CliJson.Default.String) }, CliJson.Default.DictionaryStringJsonElement);
    }

    private static TimeSpan Seconds(double seconds, string option) =>
        seconds is > 0 and <= 3600 ? TimeSpan.FromSeconds(seconds) : throw new CliError("bad_request", $"{option} is seconds, more than 0 and at most 3600.");
}
