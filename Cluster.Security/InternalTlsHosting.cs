using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Connections.Security;
using Orleans.Hosting;

namespace Switchboard.Cluster.Security;

/// <summary>Turns <see cref="InternalTlsOptions"/> into Orleans' TLS for a silo or a client; nothing when off.</summary>
public static class InternalTlsHosting
{
    /// <summary>Silo-to-silo and client-to-silo connections of this silo: TLS both ways, a certificate required from every peer.</summary>
    public static ISiloBuilder UseInternalTls(this ISiloBuilder siloBuilder, InternalTlsOptions options)
    {
        if (Load(options) is { } certificates)
        {
            siloBuilder.UseTls(certificates.Local, tls => Configure(tls, certificates, options));
            siloBuilder.Services.AddHostedService(sp => new StartupReport(certificates, sp.GetRequiredService<ILoggerFactory>(), TimeProvider.System));
        }

        return siloBuilder;
    }

    /// <summary>This client's connections to the silos' gateway ports: TLS, presenting its certificate, checking theirs.</summary>
    public static IClientBuilder UseInternalTls(this IClientBuilder clientBuilder, InternalTlsOptions options)
    {
        if (Load(options) is { } certificates)
        {
            clientBuilder.UseTls(certificates.Local, tls => Configure(tls, certificates, options));
            clientBuilder.Services.AddHostedService(sp => new StartupReport(certificates, sp.GetRequiredService<ILoggerFactory>(), TimeProvider.System));
        }

        return clientBuilder;
    }

    /// <summary>
    /// The files, loaded now: Orleans takes the certificate while the host is built, so a setting that cannot
    /// work stops the process at start rather than at its first connection.
    /// </summary>
    private static PeerCertificates? Load(InternalTlsOptions options)
    {
        if (!options.Enabled)
        {
            return null;
        }

        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new(options), errors, validateAllProperties: true))
        {
            throw new InvalidOperationException("Internal TLS is misconfigured: " + string.Join(" ", errors.Select(e => e.ErrorMessage)));
        }

        return PeerCertificates.Load(options);
    }

    private static void Configure(TlsOptions tls, PeerCertificates certificates, InternalTlsOptions options)
    {
        // Mutual: a silo asks every peer (silo or client) for a certificate, and a client always presents its own.
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.RemoteCertificateValidation = certificates.Validate;
        tls.HandshakeTimeout = options.HandshakeTimeout;
    }

    /// <summary>Says at start which certificate this host presents, and warns a month before it expires.</summary>
    private sealed class StartupReport(PeerCertificates certificates, ILoggerFactory loggerFactory, TimeProvider time) : IHostedService
    {
        private static readonly TimeSpan RenewalWarning = TimeSpan.FromDays(30);

        public Task StartAsync(CancellationToken cancellationToken)
        {
            var logger = loggerFactory.CreateLogger("Switchboard.Cluster.Security.InternalTls");
            var local = certificates.Local;
            var (authorities, pins) = certificates.Checks;
            InternalTlsLog.On(logger, local.Subject, local.GetCertHashString(HashAlgorithmName.SHA256), local.NotAfter.ToUniversalTime(), authorities, pins);
            var left = local.NotAfter.ToUniversalTime() - time.GetUtcNow().UtcDateTime;
            if (left < RenewalWarning)
            {
                InternalTlsLog.ExpiresSoon(logger, local.Subject, local.NotAfter.ToUniversalTime(), (int)Math.Max(0, left.TotalDays));
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
