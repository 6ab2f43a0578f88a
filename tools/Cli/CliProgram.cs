using System.CommandLine;
using Switchboard.Cli.Commands;

namespace Switchboard.Cli;

/// <summary>
/// switchboard-cli: a client of the public protocol (docs/protocol.md) and nothing else: it shares no code with
/// the server, so it doubles as an example for client authors.
/// </summary>
public static class CliProgram
{
    public static Task<int> Main(string[] args) => RunAsync(args, CliEnvironment.Console, handleTermination: true);

    /// <summary>Runs one command line; tests call this with captured writers and their own variables.</summary>
    /// <param name="handleTermination">Ctrl-C and SIGTERM cancel the command (only for the real process: a test host has its own).</param>
    public static Task<int> RunAsync(string[] args, CliEnvironment environment, bool handleTermination = false, CancellationToken cancellationToken = default)
    {
        var common = new CommonOptions();
        var root = new RootCommand("A command-line client of a Switchboard server: tokens, messages, live tail, history, read markers, receipts, typing, presence, groups and their moderation.")
        {
            TokenCommand.Create(common, environment),
            MessagingCommands.Send(common, environment),
            MessagingCommands.Tail(common, environment),
            MessagingCommands.History(common, environment),
            MessagingCommands.Conversations(common, environment),
            MessagingCommands.Presence(common, environment),
            ReadingCommands.Read(common, environment),
            ReadingCommands.Receipts(common, environment),
            ReadingCommands.Typing(common, environment),
            ReadingCommands.Delete(common, environment),
            GroupCommands.Create(common, environment),
        };
        common.AddTo(root);
        var configuration = new InvocationConfiguration
        {
            Output = environment.Output,
            Error = environment.Error,
            ProcessTerminationTimeout = handleTermination ? TimeSpan.FromSeconds(3) : null,
        };
        return root.Parse(args).InvokeAsync(configuration, cancellationToken);
    }
}
