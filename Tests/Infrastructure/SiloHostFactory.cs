using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Switchboard.Silo;

namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// The real silo host on real Kestrel (127.0.0.1, a free port) with OS-picked Orleans ports, so hosts and
/// test collections never collide. Extra settings override the embedded defaults.
/// </summary>
public sealed class SiloHostFactory : WebApplicationFactory<SiloProgram>
{
    /// <summary>The key tests sign tokens with; a conformance run against a cluster passes that cluster's key (see <see cref="TestTargets"/>).</summary>
    public static string SigningKey => TestTargets.SigningKey ?? "switchboard-tests-signing-key-0123456789abcdef";

    private readonly Dictionary<string, string?> _settings;

    public SiloHostFactory(IDictionary<string, string?>? settings = null)
    {
        _settings = new Dictionary<string, string?>
        {
            ["Switchboard:Silo:SiloPort"] = "0",
            ["Switchboard:Silo:GatewayPort"] = "0",
            ["Switchboard:Silo:ClusterId"] = $"tests-{Guid.NewGuid():N}",
            ["Switchboard:Auth:SigningKey"] = SigningKey,
            ["Switchboard:Auth:DevTokens"] = "true",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        UseKestrel(0);
    }

    /// <summary>The base address of the started server, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return new Uri(addresses.First().Replace("[::]", "127.0.0.1").Replace("localhost", "127.0.0.1") + "/");
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseSetting("Urls", "http://127.0.0.1:0");
        builder.ConfigureServices(services => services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5)));
    }
}
