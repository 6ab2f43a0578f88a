using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Switchboard.Cluster.Security;

namespace Switchboard.Gateway.Hosting;

/// <summary>
/// Where the gateway listens for https/wss. Production configures Kestrel the standard way
/// (<c>Kestrel:Endpoints:Https:Url</c> with <c>Certificate:Path</c> and <c>KeyPath</c> or <c>Password</c>).
/// Without that, and with <c>Switchboard:Gateway:SelfSignedCertificate</c>, it makes a certificate for
/// localhost and 127.0.0.1 at start and listens on <c>Switchboard:Gateway:HttpsUrl</c>. Either way only TLS 1.2
/// and 1.3 are offered, and certificate files named in <c>Kestrel:Endpoints</c> are read again when they change.
/// </summary>
public sealed class GatewayTls
{
    private GatewayTls(X509Certificate2 certificate) => SelfSignedCertificate = certificate;

    /// <summary>The certificate made at start, for clients (and tests) that pin it.</summary>
    public X509Certificate2 SelfSignedCertificate { get; }

    /// <summary>The TLS versions every https endpoint of the gateway accepts.</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    public static void Configure(WebApplicationBuilder builder, GatewayHostOptions options)
    {
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            // Applied before each endpoint's own settings, so it also covers endpoints from Kestrel:Endpoints.
            kestrel.ConfigureHttpsDefaults(https => https.SslProtocols = Protocols);
            UseRenewableCertificates(kestrel, context.Configuration.GetSection("Kestrel"), context.HostingEnvironment.ContentRootPath, options.ReleaseIdleTlsBuffers);
        });

        if (builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any() || !options.SelfSignedCertificate)
        {
            return;
        }

        var tls = new GatewayTls(CreateSelfSigned());
        builder.Services.AddSingleton(tls);
        var url = new Uri(options.HttpsUrl.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            void Https(ListenOptions listen)
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(tls.SelfSignedCertificate);
                ReleaseIdleBuffers(listen, options.ReleaseIdleTlsBuffers);
            }

            if (url.IsLoopback && url.HostNameType == UriHostNameType.Dns)
            {
                kestrel.ListenLocalhost(url.Port, Https);
            }
            else
            {
                kestrel.Listen(IPAddress.Parse(url.Host.Trim('[', ']')), url.Port, Https);
            }
        });
    }

    /// <summary>
    /// Serves each <c>Kestrel:Endpoints:{name}</c> with <c>Certificate:Path</c> from a <see cref="RenewableCertificate"/>.
    /// Kestrel's own reload on change is off: it rebinds the endpoint when a certificate file changes, which closes the
    /// connections open on it (sockets included); the endpoints themselves are read once, at start.
    /// </summary>
    private static void UseRenewableCertificates(KestrelServerOptions kestrel, IConfigurationSection section, string contentRoot, bool releaseIdleBuffers)
    {
        var loader = kestrel.Configure(section, reloadOnChange: false);
        foreach (var endpoint in section.GetSection("Endpoints").GetChildren())
        {
            var certificate = endpoint.GetSection("Certificate");
            if (string.IsNullOrEmpty(certificate["Path"]))
            {
                continue;
            }

            loader.Endpoint(endpoint.Key, configured =>
            {
                if (!configured.IsHttps)
                {
                    return;
                }

                var logger = kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<RenewableCertificate>();
                var keyPath = certificate["KeyPath"] is { Length: > 0 } key ? Path.GetFullPath(key, contentRoot) : null;
                var renewable = new RenewableCertificate(Path.GetFullPath(certificate["Path"]!, contentRoot), keyPath, certificate["Password"], logger);
                List<SslApplicationProtocol> alpn = configured.ListenOptions.Protocols switch
                {
                    HttpProtocols.Http1 => [SslApplicationProtocol.Http11],
                    HttpProtocols.Http2 => [SslApplicationProtocol.Http2],
                    _ => [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                };
                configured.ListenOptions.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                    {
                        ServerCertificateContext = renewable.Current,
                        EnabledSslProtocols = Protocols,
                        ApplicationProtocols = alpn,
                        ClientCertificateRequired = false,
                        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    }),
                });
                ReleaseIdleBuffers(configured.ListenOptions, releaseIdleBuffers);
            });
        }
    }

    /// <summary>After the handshake of each connection: OpenSSL frees its record buffers whenever they are empty.</summary>
    private static void ReleaseIdleBuffers(ListenOptions listen, bool enabled)
    {
        if (enabled)
        {
            listen.UseIdleTlsBufferRelease(listen.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<GatewayTls>());
        }
    }

    /// <summary>An ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1, valid for a year, for server authentication.</summary>
    public static X509Certificate2 CreateSelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(1));

        // Reloaded from PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), password: null);
    }
}
