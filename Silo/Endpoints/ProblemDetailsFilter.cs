using Switchboard.Silo.Diagnostics;

namespace Switchboard.Silo.Endpoints;

/// <summary>
/// Every REST failure becomes RFC 7807 problem details with the protocol's <c>code</c>, in one place:
/// endpoints throw <c>SwitchboardException</c> (or let a cluster failure through) and never format errors.
/// </summary>
public sealed partial class ProblemDetailsFilter(ILogger<ProblemDetailsFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception exception) when (!context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            var request = context.HttpContext.Request;
            if (ErrorMapping.IsUnexpected(exception))
            {
                LogFailed(logger, request.Method, request.Path, exception);
            }

            var problem = Problems.From(exception);
            if (problem.StatusCode is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
            {
                // Every budget refills at least one message a second; a full log backlog or a lost node clears in seconds.
                context.HttpContext.Response.Headers.RetryAfter = "1";
            }

            return problem;
        }
    }

    // The path carries no secrets (tokens travel in headers, or in the query of /ws, which is not REST).
    [LoggerMessage(EventId = 3101, Level = LogLevel.Error, Message = "{Method} {Path} failed unexpectedly")]
    private static partial void LogFailed(ILogger logger, string method, string path, Exception exception);
}

public static class ProblemDetailsFilterExtensions
{
    /// <summary>Answers failures of these endpoints with problem details.</summary>
    public static TBuilder WithProblemDetails<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, ProblemDetailsFilter>();
}
