using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Switchboard.Messaging;
using Switchboard.Silo.Diagnostics;

namespace Switchboard.Silo.Endpoints;

/// <summary>RFC 7807 problem details with the protocol's <c>code</c> extension.</summary>
public static class Problems
{
    public static ProblemHttpResult Result(ProtocolError code, string detail) =>
        TypedResults.Problem(Create(code, detail));

    public static ProblemHttpResult From(Exception exception)
    {
        var (code, message) = ErrorMapping.ToError(exception);
        return Result(code, message);
    }

    public static Task Write(HttpContext context, ProtocolError code, string detail)
    {
        context.Response.StatusCode = code.ToHttpStatus();
        return context.Response.WriteAsJsonAsync(Create(code, detail), options: null, contentType: "application/problem+json");
    }

    private static ProblemDetails Create(ProtocolError code, string detail) => new()
    {
        Status = code.ToHttpStatus(),
        Title = code.ToWire(),
        Detail = detail,
        Extensions = { ["code"] = code.ToWire() },
    };
}
