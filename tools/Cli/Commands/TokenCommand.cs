using System.CommandLine;
using Switchboard.Cli.Client;

namespace Switchboard.Cli.Commands;

/// <summary><c>token USER [--role R]</c>: a development token, the one command that prints a token.</summary>
public static class TokenCommand
{
    public static Command Create(CommonOptions common, CliEnvironment environment)
    {
        var user = new Argument<string>("user") { Description = "The user the token names (its sub)." };
        var command = new Command("token", "Get a development token (POST /api/dev/token); print it. Servers with dev tokens off answer 404.") { user };
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            if (invocation.Insecure)
            {
                invocation.Printer.Status("warning: --insecure: the server's certificate is not checked");
            }

            using var rest = invocation.Anonymous();
            var token = await rest.DevTokenAsync(parse.GetValue(user)!, parse.GetValue(common.Role)!, cancellationToken);
            if (invocation.Printer.Json)
            {
                invocation.Printer.Result(new TokenReply(token), CliJson.Default.TokenReply, token);
            }
            else
            {
                invocation.Printer.Line(token);
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
