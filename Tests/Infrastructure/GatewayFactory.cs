using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchboard.Gateway;
using Switchboard.Gateway.Discovery;
using Switchboard.Gateway.Hosting;
using Switchboard.Gateway.Proxy;

namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// The real gateway on real Kestrel: https on 127.0.0.1 and a free port, with the certificate it makes at
/// start, discovering the silos of a <see cref="DurableCluster"/> (same Redis, same cluster id) or fronting one
/// in-process silo host by its static list. Clients pin
/// that certificate. Every log line is kept in <see cref="Logs"/>.
/// </summary>
public sealed class GatewayFactory : WebApplicationFactory<GatewayProgram>
{
    private readonly Dictionary<string, string?> _settings;

    public GatewayFactory(DurableCluster cluster, IDictionary<string, string?>? settings = null)
        : this(new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = cluster.RedisConnectionString, ["Switchboard:Gateway:ClusterId"] = cluster.ClusterId }, settings)
    {
    }

    /// <summary>A gateway in front of one silo at <paramref name="silo"/>, from its static list (no Redis).</summary>
    public GatewayFactory(Uri silo, IDictionary<string, string?>? settings = null)
        : this(new Dictionary<string, string?> { ["Switchboard:Gateway:Silos:0"] = silo.ToString().TrimEnd('/') }, settings)
    {
    }

    private GatewayFactory(Dictionary<string, string?> discovery, IDictionary<string, string?>? settings)
    {
        _settings = new Dictionary<string, string?>(discovery)
        {
            ["Switchboard:Gateway:SelfSignedCertificate"] = "true",
            ["Switchboard:Gateway:HttpsUrl"] = "https://127.0.0.1:0",
            ["Switchboard:Gateway:ShutdownTimeout"] = "00:00:03",

            // Tests take their tokens from the silos' dev endpoint through the gateway, as the local cluster does.
            ["Switchboard:Gateway:RouteDevTokens"] = "true",

            // The test silos' key: the gateway checks socket tokens with the silos' settings, as the local cluster does.
            ["Switchboard:Auth:SigningKey"] = SiloHostFactory.SigningKey,
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:LogLevel:Orleans"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        UseKestrel();
    }

    public CapturedLogs Logs { get; } = new();

    /// <summary>The gateway's https base address, e.g. <c>https://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return new Uri(addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal)) + "/");
        }
    }

    /// <summary>The silos the gateway publishes as destinations now.</summary>
    public IReadOnlyList<SiloDestination> Destinations => Services.GetRequiredService<SiloProxyConfigProvider>().Destinations;

    public X509Certificate2 Certificate => Services.GetRequiredService<GatewayTls>().SelfSignedCertificate;

    /// <summary>Accepts exactly the gateway's own certificate.</summary>
    public RemoteCertificateValidationCallback ValidateCertificate
    {
        get
        {
            var expected = Certificate.GetCertHash();
            return (_, certificate, _, _) => certificate is not null && certificate.GetCertHash().AsSpan().SequenceEqual(expected);
        }
    }

    public ApiClient Api() =>
        new(BaseAddress, new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = ValidateCertificate } });

    public Task<SocketClient> ConnectAsync(string token, bool useQuery = false, string? origin = null, bool http2 = false) =>
        SocketClient.ConnectAsync(BaseAddress, token, useQuery, origin, ValidateCertificate, http2);

    /// <summary>Waits until the destinations are exactly the silos named (by welcome.node name).</summary>
    public Task WaitForDestinationsAsync(IEnumerable<string> names, TimeSpan? timeout = null)
    {
        var expected = names.Order(StringComparer.Ordinal).ToArray();
        return Wait.UntilAsync(
            () => Destinations.Select(d => d.Name).Order(StringComparer.Ordinal).SequenceEqual(expected),
            $"the gateway's destinations are [{string.Join(", ", expected)}] (now [{string.Join(", ", Destinations.Select(d => d.Name))}])",
            timeout ?? TimeSpan.FromSeconds(60));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
    }
}
