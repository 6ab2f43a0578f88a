using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// A throwaway certificate authority made at run time, writing PEM files to a temp folder the way an operator's
/// openssl commands do (docs/operations.md, "Internal TLS"): the CA certificate, and per-host certificates it signs.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly ECDsa _key;
    private readonly X509Certificate2 _certificate;

    public TestCertificateAuthority(string name)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory($"sb-ca-{name}-").FullName;
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Switchboard test CA {name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        _certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        CaPath = Path.Combine(Directory, "ca.crt");
        File.WriteAllText(CaPath, _certificate.ExportCertificatePem());
    }

    public string Directory { get; }

    /// <summary>The CA certificate (PEM), what <c>InternalTls:CaPath</c> names.</summary>
    public string CaPath { get; }

    /// <summary>A host certificate for 127.0.0.1 and localhost, for server and client authentication, with its PEM files.</summary>
    public HostCertificate Issue(string host)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(_certificate, now.AddMinutes(-5), now.AddHours(12), RandomNumberGenerator.GetBytes(16));
        var certificatePath = Path.Combine(Directory, $"{host}.crt");
        var keyPath = Path.Combine(Directory, $"{host}.key");
        File.WriteAllText(certificatePath, issued.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new HostCertificate(certificatePath, keyPath, CaPath, issued.GetCertHashString(HashAlgorithmName.SHA256));
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>One host's PEM files and the CA that checks its peers, as settings of an <c>InternalTls</c> section.</summary>
public sealed record HostCertificate(string CertificatePath, string KeyPath, string CaPath, string Sha256)
{
    /// <summary>The section's settings as environment variables (<c>Switchboard__Silo__InternalTls__...</c>) or config keys.</summary>
    public Dictionary<string, string?> Settings(string section, string separator = "__") => new()
    {
        [$"{section}{separator}Enabled"] = "true",
        [$"{section}{separator}CertificatePath"] = CertificatePath,
        [$"{section}{separator}KeyPath"] = KeyPath,
        [$"{section}{separator}CaPath"] = CaPath,
    };
}
