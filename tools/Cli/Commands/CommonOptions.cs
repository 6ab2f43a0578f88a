using System.CommandLine;
using Switchboard.Cli.Client;
using Switchboard.Cli.Output;

namespace Switchboard.Cli.Commands;

/// <summary>The options every command takes (server, token, output), declared once on the root command.</summary>
public sealed class CommonOptions
{
    public const string ServerVariable = "SWITCHBOARD_SERVER";
    public const string TokenVariable = "SWITCHBOARD_TOKEN";

    public Option<string?> Server { get; } = new("--server", "-s")
    {
        Description = $"The server: a silo (http://host:port) or the gateway (https://host:port). Default ${ServerVariable}, else {ServerAddress.Default}.",
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"A bearer token (visible to other users in the process list: prefer ${TokenVariable}).",
        Recursive = true,
    };

    public Option<string?> User { get; } = new("--user", "-u")
    {
        Description = "Act as this user with a development token from POST /api/dev/token (servers with dev tokens on).",
        Recursive = true,
    };

    public Option<string> Role { get; } = new("--role")
    {
        Description = "The role of the development token --user asks for.",
        DefaultValueFactory = _ => "student",
        Recursive = true,
    };

    public Option<bool> Insecure { get; } = new("--insecure", "-k")
    {
        Description = "Accept any TLS certificate (the local cluster's self-signed gateway). Never for a real server.",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "One JSON object per line on stdout, for scripts.",
        Recursive = true,
    };

    public void AddTo(Command root)
    {
        root.Options.Add(Server);
        root.Options.Add(Token);
        root.Options.Add(User);
        root.Options.Add(Role);
        root.Options.Add(Insecure);
        root.Options.Add(Json);
    }
}

/// <summary>What one invocation works with: its output, its server, and (when asked) its token.</summary>
public sealed class Invocation(ParseResult parse, CommonOptions common, CliEnvironment environment)
{
    public Printer Printer { get; } = new(environment.Output, environment.Error, parse.GetValue(common.Json));

    public ServerAddress Server { get; } = ServerAddress.Parse(parse.GetValue(common.Server) ?? environment.Variable(CommonOptions.ServerVariable) ?? ServerAddress.Default);

    public bool Insecure { get; } = parse.GetValue(common.Insecure);

    public RestClient Anonymous() => new(Server, token: null, Insecure);

    /// <summary>After <see cref="ConnectAsync"/>: a way to get a fresh token for the same user when it came from --user (dev tokens), else null.</summary>
    public Func<CancellationToken, Task<string>>? RenewToken { get; private set; }

    /// <summary>--token, else a dev token for --user, else $SWITCHBOARD_TOKEN.</summary>
    public async Task<Connection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (Insecure)
        {
            Printer.Status("warning: --insecure: the server's certificate is not checked");
        }

        if (Server.Rest.Scheme == Uri.UriSchemeHttp && !Server.Rest.IsLoopback)
        {
            Printer.Status($"warning: {Server.Rest.Host} is not this machine and the connection is not encrypted: the token travels in clear (use https)");
        }

        var token = parse.GetValue(common.Token);
        if (token is null && parse.GetValue(common.User) is { } user)
        {
            var role = parse.GetValue(common.Role)!;
            RenewToken = async cancellation =>
            {
                using var rest = Anonymous();
                return await rest.DevTokenAsync(user, role, cancellation);
            };
            token = await RenewToken(cancellationToken);
        }

        token ??= environment.Variable(CommonOptions.TokenVariable);
        if (string.IsNullOrWhiteSpace(token))
        {
            throw new CliError("unauthorized", $"No token: pass --user NAME (development tokens), or set ${CommonOptions.TokenVariable} (or --token).");
        }

        return new Connection(Server, token.Trim(), Insecure);
    }
}

/// <summary>The process's console and environment, or a test's captured writers and variables.</summary>
public sealed record CliEnvironment(TextWriter Output, TextWriter Error, Func<string, string?> Variable)
{
    public static CliEnvironment Console => new(System.Console.Out, System.Console.Error, Environment.GetEnvironmentVariable);
}
