using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Issuer;

namespace Switchboard.Tests.Infrastructure.Servers;

/// <summary>The real development token issuer (tools/Issuer) in-process on real Kestrel, 127.0.0.1 and a free port unless told otherwise.</summary>
public sealed class IssuerServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private IssuerServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
        _http = new HttpClient { BaseAddress = new Uri(url + "/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Its base URL, which is also the <c>iss</c> of its tokens unless configured.</summary>
    public string Url { get; }

    public HttpClient Http => _http;

    /// <summary>The app before it starts, as its Program composes it: settings are configuration keys (<c>Switchboard:Issuer:Url</c> defaults to a free loopback port).</summary>
    public static WebApplication Build(params (string Key, string Value)[] settings)
    {
        // Its own content root: the test folder holds the silo's appsettings.json, whose Urls is not the issuer's.
        var root = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "issuer-content-root")).FullName;
        var args = new List<string> { "--Switchboard:Issuer:Url=http://127.0.0.1:0" };
        args.AddRange(settings.Select(s => $"--{s.Key}={s.Value}"));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. args], ContentRootPath = root });
        builder.Logging.ClearProviders();
        builder.AddTokenIssuer();
        var app = builder.Build();
        app.MapTokenIssuer();
        return app;
    }

    public static async Task<IssuerServer> StartAsync(params (string Key, string Value)[] settings)
    {
        var app = Build(settings);
        await app.StartOnLoopbackOnlyAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new IssuerServer(app, address.TrimEnd('/'));
    }

    /// <summary>Asks its token endpoint; the reply's status and body.</summary>
    public async Task<(int Status, JsonElement Body)> RequestAsync(object request)
    {
        using var response = await _http.PostAsJsonAsync("token", request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    /// <summary>A token for <paramref name="user"/> (200 asserted).</summary>
    public async Task<string> TokenAsync(string user, string role = "student", int? lifetime = null)
    {
        var (status, body) = await RequestAsync(lifetime is null ? new { user, role } : new { user, role, lifetime });
        Assert.Equal(200, status);
        return body.GetProperty("token").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
