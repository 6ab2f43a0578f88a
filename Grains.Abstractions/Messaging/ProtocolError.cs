namespace Switchboard.Messaging;

/// <summary>The error codes of docs/protocol.md, shared by <c>error</c> frames and problem details.</summary>
public enum ProtocolError
{
    /// <summary><c>bad_request</c>: malformed, invalid or not allowed as asked (HTTP 400).</summary>
    BadRequest = 0,

    /// <summary><c>unauthorized</c>: missing or bad token (HTTP 401).</summary>
    Unauthorized = 1,

    /// <summary><c>forbidden</c>: the caller may not do this (HTTP 403).</summary>
    Forbidden = 2,

    /// <summary><c>not_found</c>: no such group or conversation (HTTP 404).</summary>
    NotFound = 3,

    /// <summary><c>too_large</c>: a REST body over the limit (HTTP 413).</summary>
    TooLarge = 4,

    /// <summary><c>rate_limited</c>: slow down (HTTP 429).</summary>
    RateLimited = 5,

    /// <summary><c>unavailable</c>: a backend could not take the request now; retry with the same id (HTTP 503).</summary>
    Unavailable = 6,
}

/// <summary>Wire names and HTTP statuses of <see cref="ProtocolError"/>.</summary>
public static class ProtocolErrors
{
    /// <summary>The name written in frames and problem details.</summary>
    public static string ToWire(this ProtocolError code) => code switch
    {
        ProtocolError.BadRequest => "bad_request",
        ProtocolError.Unauthorized => "unauthorized",
        ProtocolError.Forbidden => "forbidden",
        ProtocolError.NotFound => "not_found",
        ProtocolError.TooLarge => "too_large",
        ProtocolError.RateLimited => "rate_limited",
        ProtocolError.Unavailable => "unavailable",
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, null),
    };

    /// <summary>The HTTP status of the REST answer.</summary>
    public static int ToHttpStatus(this ProtocolError code) => code switch
    {
        ProtocolError.BadRequest => 400,
        ProtocolError.Unauthorized => 401,
        ProtocolError.Forbidden => 403,
        ProtocolError.NotFound => 404,
        ProtocolError.TooLarge => 413,
        ProtocolError.RateLimited => 429,
        ProtocolError.Unavailable => 503,
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, null),
    };
}
