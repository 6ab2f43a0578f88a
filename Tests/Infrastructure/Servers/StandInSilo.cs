using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Switchboard.Tests.Infrastructure.Servers;

/// <summary>
/// A gateway destination that is not a silo: ready to health checks, and it counts every other request that reaches
/// it and answers it <see cref="Status"/> (418, which no silo sends), so a test tells "forwarded" from "refused by the
/// gateway" by the status alone, and proves by the count that a refused request never left the gateway.
/// </summary>
public sealed class StandInSilo : IAsyncDisposable
{
    public const int Status = StatusCodes.Status418ImATeapot;

    private readonly WebApplication _app;
    private int _requests;

    private StandInSilo(WebApplication app) => _app = app;

    /// <summary>The base URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Requests that reached it, health checks left out.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The header names of the last request that reached it (health checks left out).</summary>
    public IReadOnlyList<string> LastHeaders { get; private set; } = [];

    public static async Task<StandInSilo> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var silo = new StandInSilo(builder.Build());
        silo._app.Run(context =>
        {
            if (context.Request.Path.StartsWithSegments("/health"))
            {
                return Task.CompletedTask;
            }

            silo.LastHeaders = context.Request.Headers.Keys.ToList();
            Interlocked.Increment(ref silo._requests);
            context.Response.StatusCode = Status;
            return Task.CompletedTask;
        });
        await silo._app.StartAsync();
        silo.BaseAddress = new Uri(silo._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return silo;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
