using System.ComponentModel.DataAnnotations;
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
        }

        return siloBuilder;
    }

    /// <summary>This client's connections to the silos' gateway ports: TLS, presenting its certificate, checking theirs.</summary>
    public static IClientBuilder UseInternalTls(this IClientBuilder clientBuilder, InternalTlsOptions options)
    {
        if (Load(options) is { } certificates)
        {
            clientBuilder.UseTls(certificates.Local, tls => Configure(tls, certificates, options));
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
}
