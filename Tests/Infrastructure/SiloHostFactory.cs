using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchboard.Silo;

namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// The real silo host on real Kestrel (127.0.0.1, a free port) with OS-picked Orleans ports, so hosts and
/// test collections never collide. Extra settings override the embedded defaults (a null value removes one of
/// this factory's). It runs in the <see cref="TestEnvironment"/> environment with dev tokens on, as tests mint
/// most of their tokens there; a test of the Production rules passes its own environment.
/// </summary>
public sealed class SiloHostFactory : WebApplicationFactory<SiloProgram>
{
    /// <summary>
    /// The key tests sign tokens with: 32 random bytes as hex, as the local cluster makes its key (a silo refuses a
    /// key that does not look random). A conformance run against a cluster passes that cluster's key (see <see cref="TestTargets"/>).
    /// </summary>
    public static string SigningKey => TestTargets.SigningKey ?? "3f859d1438214f141af2f804eaa8b81240d225cfb190b14084cfacb681c7daef";

    /// <summary>Not Production (which refuses dev tokens) and not Development (which changes error pages and DI checks).</summary>
    public const string TestEnvironment = "Tests";

    private readonly Dictionary<string, string?> _settings;
    private readonly string _environment;
    private readonly Action<IServiceCollection>? _services;

    /// <param name="services">Extra service registrations, after the host's own (e.g. an in-memory trace exporter).</param>
    public SiloHostFactory(IDictionary<string, string?>? settings = null, string environment = TestEnvironment, Action<IServiceCollection>? services = null)
    {
        _environment = environment;
        _services = services;
        _settings = new Dictionary<string, string?>
        {
            ["Switchboard:Silo:SiloPort"] = "0",
            ["Switchboard:Silo:GatewayPort"] = "0",
            ["Switchboard:Silo:ClusterId"] = $"tests-{Guid.NewGuid():N}",
            ["Switchboard:Auth:SigningKey"] = SigningKey,
            ["Switchboard:Auth:DevTokens"] = "true",
            // The warm-up has its own tests (WarmUpReadinessTests); elsewhere it only lengthens every host's start.
            ["Switchboard:WarmUp:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                _settings.Remove(key);
            }
            else
            {
                _settings[key] = value;
            }
        }

        UseKestrel(0);
    }

    /// <summary>Every line the host logs (at the configured levels).</summary>
    public CapturedLogs Logs { get; } = new();

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

    /// <summary>Starts a host that should refuse to start: the exception it stopped with (null when it started); disposed either way.</summary>
    public async Task<Exception?> StartExpectingRefusalAsync()
    {
        var refused = Record.Exception(StartServer);
        try
        {
            await DisposeAsync();
        }
        catch (Exception) when (refused is not null)
        {
            // A host that never started may fail to stop as well; the start is what the caller asked about.
        }

        return refused;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseSetting("Urls", "http://127.0.0.1:0");
        builder.ConfigureServices(services => services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5)));
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }
}
