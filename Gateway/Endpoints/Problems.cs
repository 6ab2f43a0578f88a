using Microsoft.AspNetCore.Mvc;
using Switchboard.Messaging;

namespace Switchboard.Gateway.Endpoints;

/// <summary>RFC 7807 problem details with the protocol's <c>code</c> extension, as the silos write them.</summary>
public static class Problems
{
    public static Task Write(HttpContext context, ProtocolError code, string detail)
    {
        context.Response.StatusCode = code.ToHttpStatus();
        var problem = new ProblemDetails
        {
            Status = code.ToHttpStatus(),
            Title = code.ToWire(),
            Detail = detail,
            Extensions = { ["code"] = code.ToWire() },
        };
        return context.Response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json");
    }
}
