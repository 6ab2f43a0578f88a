namespace Switchboard.Cli.Client;

/// <summary>Where the server is: its REST base (http or https) and its socket URL (ws or wss, path <c>/ws</c>).</summary>
public sealed record ServerAddress(Uri Rest, Uri Socket)
{
    public const string Default = "http://localhost:5000";

    public static ServerAddress Parse(string server)
    {
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri))
        {
            throw new CliError("bad_request", $"--server must be an absolute URL such as {Default}, not '{server}'.");
        }

        var (rest, socket) = uri.Scheme switch
        {
            "http" or "ws" => ("http", "ws"),
            "https" or "wss" => ("https", "wss"),
            _ => throw new CliError("bad_request", $"--server must be http, https, ws or wss, not '{uri.Scheme}'."),
        };
        var root = new UriBuilder(uri) { Scheme = rest, Path = "/", Query = string.Empty, Fragment = string.Empty, Port = uri.Port }.Uri;
        var ws = new UriBuilder(uri) { Scheme = socket, Path = "/ws", Query = string.Empty, Fragment = string.Empty, Port = uri.Port }.Uri;
        return new ServerAddress(root, ws);
    }
}
