using System.CommandLine;
using Switchboard.Cli.Client;

namespace Switchboard.Cli.Commands;

/// <summary>Runs a command's body and turns its failures into the printed error and the exit code.</summary>
public static class CliCommand
{
    public static void SetAction(this Command command, CommonOptions common, CliEnvironment environment, Func<ParseResult, Invocation, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            Invocation invocation;
            try
            {
                invocation = new Invocation(parse, common, environment);
            }
            catch (CliError error)
            {
                environment.Error.WriteLine($"error: {error.Code}: {error.Message}");
                return error.ExitCode;
            }

            try
            {
                return await body(parse, invocation, cancellationToken);
            }
            catch (CliError error)
            {
                invocation.Printer.Error(error);
                return error.ExitCode;
            }
            catch (Exception exception) when (exception is System.Net.WebSockets.WebSocketException or HttpRequestException or IOException)
            {
                var broke = new CliError(ExitCodes.ConnectionCode, $"The connection broke: {RestClient.Describe(exception)}", exception);
                invocation.Printer.Error(broke);
                return broke.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                invocation.Printer.Status("cancelled");
                return 130;
            }
        });
}
