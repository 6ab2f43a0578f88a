using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.Auth;
using Switchboard.Silo.Diagnostics;

namespace Switchboard.Silo.Endpoints;

/// <summary><c>POST /api/dev/token</c>: only where <c>Switchboard:Auth:DevTokens</c> is on.</summary>
public static class DevTokenApi
{
    public static IEndpointRouteBuilder MapDevTokenApi(this IEndpointRouteBuilder endpoints)
    {
        var services = endpoints.ServiceProvider;
        if (services.GetRequiredService<IOptions<DevTokenOptions>>().Value.DevTokens)
        {
            AuthLog.DevTokensOn(services.GetRequiredService<ILoggerFactory>().CreateLogger(AuthLog.Category), services.GetRequiredService<IHostEnvironment>().EnvironmentName);
            endpoints.MapPost("/api/dev/token", IssueAsync).AllowAnonymous().WithProblemDetails();
        }

        return endpoints;
    }

    private static async Task<Ok<TokenReply>> IssueAsync(HttpContext context, TokenService tokens)
    {
        using var document = RequestBody.ParseObject(await RequestBody.ReadAsync(context.Request, context.RequestAborted));
        var user = RequestBody.GetString(document.RootElement, "user");
        var role = RequestBody.GetString(document.RootElement, "role") ?? "student";
        if (!UserId.TryParse(user, out _))
        {
            throw SwitchboardException.BadRequest("'user' must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
        }

        if (!Identifier.IsValid(role))
        {
            throw SwitchboardException.BadRequest("'role' must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
        }

        return TypedResults.Ok(new TokenReply(tokens.Issue(user, role)));
    }

    public sealed record TokenReply(string Token);
}
