using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Switchboard.Messaging;
using Switchboard.Silo.Auth;

namespace Switchboard.Silo.Hosting;

/// <summary>What the REST endpoints share: bearer authentication, problem details for every error, and JSON.</summary>
public static class ApiHosting
{
    public static IHostApplicationBuilder AddSwitchboardApi(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSwitchboardAuthentication();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            context.ProblemDetails.Extensions.TryAdd("code", CodeOf(status));
        });
        services.Configure<JsonOptions>(options => options.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull);
        return builder;
    }

    private static string CodeOf(int status) => status switch
    {
        401 => ProtocolError.Unauthorized.ToWire(),
        403 => ProtocolError.Forbidden.ToWire(),
        404 => ProtocolError.NotFound.ToWire(),
        413 => ProtocolError.TooLarge.ToWire(),
        429 => ProtocolError.RateLimited.ToWire(),
        >= 500 => ProtocolError.Unavailable.ToWire(),
        _ => ProtocolError.BadRequest.ToWire(),
    };
}
