namespace Switchboard.Messaging;

/// <summary>The error codes of PROTOCOL.md, shared by <c>error</c> frames and problem details.</summary>
public enum ErrorCode
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

/// <summary>Wire names and HTTP statuses of <see cref="ErrorCode"/>.</summary>
public static class ErrorCodes
{
    /// <summary>The name written in frames and problem details.</summary>
    public static string ToWire(this ErrorCode code) => code switch
    {
        ErrorCode.BadRequest => "bad_request",
        ErrorCode.Unauthorized => "unauthorized",
        ErrorCode.Forbidden => "forbidden",
        ErrorCode.NotFound => "not_found",
        ErrorCode.TooLarge => "too_large",
        ErrorCode.RateLimited => "rate_limited",
        ErrorCode.Unavailable => "unavailable",
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, null),
    };

    /// <summary>The HTTP status of the REST answer.</summary>
    public static int ToHttpStatus(this ErrorCode code) => code switch
    {
        ErrorCode.BadRequest => 400,
        ErrorCode.Unauthorized => 401,
        ErrorCode.Forbidden => 403,
        ErrorCode.NotFound => 404,
        ErrorCode.TooLarge => 413,
        ErrorCode.RateLimited => 429,
        ErrorCode.Unavailable => 503,
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, null),
    };
}
