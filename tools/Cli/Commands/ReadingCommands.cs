using System.CommandLine;
using Switchboard.Cli.Client;

namespace Switchboard.Cli.Commands;

/// <summary>Protocol 1.1's reading side: <c>read</c> markers, <c>receipts</c>, <c>typing</c>, and deleting a message.</summary>
public static class ReadingCommands
{
    public static Command Read(CommonOptions common, CliEnvironment environment)
    {
        var conversation = Conversation();
        var seq = new Argument<long?>("seq") { Description = "Read up to this seq (default: the conversation's latest, from your conversation list); 0 only asks for the stored marker.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("read", "Mark a conversation read up to SEQ over the socket; print the stored marker (markers only move forward).") { conversation, seq };
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var id = parse.GetValue(conversation)!;
            var connection = await invocation.ConnectAsync(cancellationToken);
            var upTo = parse.GetValue(seq) ?? await LatestAsync(connection, id, cancellationToken);
            await using var socket = await ProtocolSocket.ConnectAsync(connection, cancellationToken);
            var requestId = $"read-{Guid.NewGuid()}";
            var reply = await socket.RequestAsync(requestId, new ReadFrame(requestId, id, upTo), CliJson.Default.ReadFrame, cancellationToken);
            if (reply.Type == "error")
            {
                throw new CliError(reply.Code ?? ExitCodes.ConnectionCode, reply.Message ?? "The server refused the read.");
            }

            if (invocation.Printer.Json)
            {
                invocation.Printer.Line(reply.Raw);
            }
            else
            {
                invocation.Printer.Line(Output.Printer.Safe($"{id}: read up to #{reply.Read}"));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Receipts(CommonOptions common, CliEnvironment environment)
    {
        var conversation = Conversation();
        var seq = new Argument<long>("seq") { Description = "The message." };
        var command = new Command("receipts", "Who of the conversation's participants has read message SEQ (its sender, and a group's owners and admins, may ask).") { conversation, seq };
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var connection = await invocation.ConnectAsync(cancellationToken);
            using var rest = new RestClient(connection.Server, connection.Token, connection.Insecure);
            var receipts = await rest.ReceiptsAsync(parse.GetValue(conversation)!, parse.GetValue(seq), cancellationToken);
            invocation.Printer.Result(receipts, CliJson.Default.Receipts, Describe(receipts));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Typing(CommonOptions common, CliEnvironment environment)
    {
        var conversation = Conversation();
        var command = new Command("typing", "Send one typing frame to a conversation (the others see it for a few seconds; never stored).") { conversation };
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var id = parse.GetValue(conversation)!;
            var connection = await invocation.ConnectAsync(cancellationToken);
            await using var socket = await ProtocolSocket.ConnectAsync(connection, cancellationToken);
            await socket.SendAsync(new TypingFrame(id), CliJson.Default.TypingFrame, cancellationToken);

            // typing has no reply; only a malformed one gets an error (with id null). A ping after it says the server
            // has read it, so the error, if any, arrived before the pong.
            var pingId = $"ping-{Guid.NewGuid()}";
            await socket.SendAsync(new PingFrame(pingId), CliJson.Default.PingFrame, cancellationToken);
            while (await socket.ReceiveAsync(cancellationToken) is { } frame)
            {
                if (frame.Type == "error" && frame.Id is null)
                {
                    throw new CliError(frame.Code ?? ExitCodes.ConnectionCode, frame.Message ?? "The server refused the typing frame.");
                }

                if (frame.Type == "pong" && frame.Id == pingId)
                {
                    invocation.Printer.Result(new TypingFrame(id), CliJson.Default.TypingFrame, $"typing in {id}");
                    return ExitCodes.Ok;
                }
            }

            throw new CliError(ExitCodes.ConnectionCode, $"The server closed the socket ({(int?)socket.CloseStatus} {socket.CloseDescription}) before it answered.");
        });
        return command;
    }

    public static Command Delete(CommonOptions common, CliEnvironment environment)
    {
        var conversation = Conversation();
        var seq = new Argument<long>("seq") { Description = "The message to delete." };
        var command = new Command("delete", "Delete a message (its sender; in a group also its owners and admins): it keeps its seq, its body is erased.") { conversation, seq };
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var (id, at) = (parse.GetValue(conversation)!, parse.GetValue(seq));
            var connection = await invocation.ConnectAsync(cancellationToken);
            using var rest = new RestClient(connection.Server, connection.Token, connection.Insecure);
            await rest.DeleteMessageAsync(id, at, cancellationToken);
            invocation.Printer.Result(new MessageDeleted(id, at), CliJson.Default.MessageDeleted, $"deleted {id} #{at}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Argument<string> Conversation() => new("conversation") { Description = "dm:A:B (A < B in ordinal order) or group:ID." };

    /// <summary>The conversation's latest seq from the user's own list: what "read everything" means.</summary>
    private static async Task<long> LatestAsync(Connection connection, string conversation, CancellationToken cancellationToken)
    {
        using var rest = new RestClient(connection.Server, connection.Token, connection.Insecure);
        var entry = (await rest.ConversationsAsync(connection.User, cancellationToken)).Find(c => c.Conversation == conversation);
        return entry?.Seq ?? throw new CliError("not_found", $"{conversation} is not in your conversation list: give the SEQ to read up to.");
    }

    private static string Describe(Receipts receipts)
    {
        var lines = new List<string>
        {
            $"{receipts.Conversation} #{receipts.Seq}: read by {receipts.ReadBy} of {receipts.Members}",
            $"  read: {Names(receipts.Read)}",
            $"  unread: {Names(receipts.Unread)}",
        };
        if (receipts.Truncated)
        {
            lines.Add("  (the server cut the name lists short: the counts are exact)");
        }

        return string.Join(Environment.NewLine, lines);
    }

    // Each name escaped on its own: the lines around them keep their newlines, a name may not add one.
    private static string Names(IReadOnlyList<string> names) => names.Count == 0 ? "-" : string.Join(", ", names.Select(n => Output.Printer.Safe(n)));
}
