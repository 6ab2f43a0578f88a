namespace Switchboard.Cli.Client;

/// <summary>
/// A failure the CLI reports and exits with: the protocol's error <c>code</c> (or a code of the CLI's own for
/// what never reached the server) and the message for people.
/// </summary>
public sealed class CliError(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Code { get; } = code;

    public int ExitCode => ExitCodes.For(Code);
}

/// <summary>Exit codes: one per protocol error code, so a script can branch without parsing output.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>System.CommandLine's own code for an unparsable command line.</summary>
    public const int Usage = 1;

    public const int BadRequest = 2;
    public const int Unauthorized = 3;
    public const int Forbidden = 4;
    public const int NotFound = 5;
    public const int RateLimited = 6;
    public const int Unavailable = 7;
    public const int TooLarge = 8;

    /// <summary>The server could not be reached, the TLS handshake failed, or it answered something unexpected.</summary>
    public const int Connection = 9;

    /// <summary>An administrator disconnected the user (close code 4003): sign in again.</summary>
    public const int Disconnected = 10;

    /// <summary>The CLI's own code for what a socket close or a failed connection means.</summary>
    public const string ConnectionCode = "connection_failed";

    public const string DisconnectedCode = "disconnected";

    public static int For(string code) => code switch
    {
        "bad_request" => BadRequest,
        "unauthorized" => Unauthorized,
        "forbidden" => Forbidden,
        "not_found" => NotFound,
        "rate_limited" => RateLimited,
        "unavailable" => Unavailable,
        "too_large" => TooLarge,
        DisconnectedCode => Disconnected,
        _ => Connection,
    };

    /// <summary>The protocol's code for an HTTP status, for replies that carry no problem details.</summary>
    public static string CodeForStatus(int status) => status switch
    {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        413 => "too_large",
        429 => "rate_limited",
        502 or 503 or 504 => "unavailable",
        _ => ConnectionCode,
    };
}
