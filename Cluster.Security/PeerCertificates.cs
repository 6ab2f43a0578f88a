using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchboard.Cluster.Security;

/// <summary>
/// This host's certificate and the rule a peer's must pass: it chains to the configured CA (a custom root, so the
/// system store trusts nothing here) and, when pins are set, is one of them. Host names are not checked: silos reach
/// each other by the IP addresses membership publishes, so a certificate from the internal CA is the identity.
/// </summary>
public sealed class PeerCertificates
{
    private readonly X509Certificate2Collection _authorities;
    private readonly IReadOnlySet<string> _pins;

    private PeerCertificates(X509Certificate2 local, X509Certificate2Collection authorities, IReadOnlySet<string> pins)
    {
        Local = local;
        _authorities = authorities;
        _pins = pins;
    }

    /// <summary>The certificate this host presents, as a server and as a client.</summary>
    public X509Certificate2 Local { get; }

    /// <summary>How many CA certificates and pins a peer is checked against.</summary>
    public (int Authorities, int Pins) Checks => (_authorities.Count, _pins.Count);

    /// <summary>Loads the files the options name; call after the options validated.</summary>
    public static PeerCertificates Load(InternalTlsOptions options)
    {
        var authorities = new X509Certificate2Collection();
        if (!string.IsNullOrWhiteSpace(options.CaPath))
        {
            authorities.ImportFromPemFile(options.CaPath);
            if (authorities.Count == 0)
            {
                throw new InvalidOperationException($"No PEM certificate in the CA file '{options.CaPath}'.");
            }
        }

        return new PeerCertificates(LoadLocal(options), authorities, options.Pins);
    }

    /// <summary>Whether a peer's certificate is accepted; the platform's verdict (against the system store) is not consulted.</summary>
    public bool Accepts(X509Certificate2 certificate, X509Chain? presented)
    {
        if (_pins.Count > 0 && !_pins.Contains(certificate.GetCertHashString(HashAlgorithmName.SHA256)))
        {
            return false;
        }

        if (_authorities.Count == 0)
        {
            return true;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        // An internal CA publishes no revocation lists: a compromised host's certificate is retired by replacing the CA.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            // Intermediates the peer sent; the trust still comes only from the configured CA.
            foreach (var element in presented.ChainElements.Skip(1))
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate);
    }

    /// <summary>The callback TLS calls; returns false for anything not presented or not accepted.</summary>
    public bool Validate(X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null && !errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) && Accepts(certificate, chain);

    private static X509Certificate2 LoadLocal(InternalTlsOptions options)
    {
        var path = options.CertificatePath!;
        if (options.IsPkcs12)
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, options.Password);
        }

        using var pem = string.IsNullOrEmpty(options.Password)
            ? X509Certificate2.CreateFromPemFile(path, options.KeyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(path, options.Password, options.KeyPath);
        if (!pem.HasPrivateKey)
        {
            throw new InvalidOperationException($"The key '{options.KeyPath}' does not match the certificate '{path}'.");
        }

        // Through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
    }
}
