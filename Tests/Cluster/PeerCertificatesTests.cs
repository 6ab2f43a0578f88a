using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Switchboard.Cluster.Security;
using Switchboard.Silo.Hosting;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>The certificate files an operator may hand a host, and the rule a peer's certificate must pass.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class PeerCertificatesTests : IDisposable
{
    private const string Password = "correct horse";

    private readonly TestCertificateAuthority _ca = new("peers");
    private readonly TestCertificateAuthority _otherCa = new("stranger");

    [Fact]
    public void A_PEM_pair_a_PKCS12_file_and_an_encrypted_PEM_key_all_load_with_their_private_key()
    {
        var host = _ca.Issue("silo-1");
        using var pair = X509Certificate2.CreateFromPemFile(host.CertificatePath, host.KeyPath);
        var pfx = Path.Combine(_ca.Directory, "silo-1.pfx");
        File.WriteAllBytes(pfx, pair.Export(X509ContentType.Pkcs12, Password));
        using var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(host.KeyPath));
        var encryptedKey = Path.Combine(_ca.Directory, "silo-1.encrypted.key");
        File.WriteAllText(encryptedKey, key.ExportEncryptedPkcs8PrivateKeyPem(Password, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)));

        foreach (var options in new[]
        {
            Options(host.CertificatePath, host.KeyPath, null),
            Options(pfx, null, Password),
            Options(host.CertificatePath, encryptedKey, Password),
        })
        {
            var loaded = PeerCertificates.Load(options).Local;
            Assert.True(loaded.HasPrivateKey);
            Assert.Equal(host.Sha256, loaded.GetCertHashString(HashAlgorithmName.SHA256));
        }
    }

    [Fact]
    public void A_peer_is_accepted_only_with_a_certificate_from_the_configured_CA_and_matching_a_pin_when_pins_are_set()
    {
        var host = _ca.Issue("silo-1");
        var peers = PeerCertificates.Load(Options(host.CertificatePath, host.KeyPath, null));
        using var sameCa = Load(_ca.Issue("silo-2"));
        using var otherCa = Load(_otherCa.Issue("silo-2"));
        using var self = Load(host);

        Assert.True(peers.Accepts(sameCa, presented: null));
        Assert.False(peers.Accepts(otherCa, presented: null));
        Assert.False(peers.Validate(null, null, System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable));

        var pinned = Options(host.CertificatePath, host.KeyPath, null);
        pinned.PinnedCertificates = [host.Sha256];
        var withPin = PeerCertificates.Load(pinned);
        Assert.False(withPin.Accepts(sameCa, presented: null));
        Assert.True(withPin.Accepts(self, presented: null));
    }

    public void Dispose()
    {
        _ca.Dispose();
        _otherCa.Dispose();
    }

    private SiloInternalTlsOptions Options(string certificate, string? key, string? password) => new()
    {
        Enabled = true,
        CertificatePath = certificate,
        KeyPath = key,
        Password = password,
        CaPath = _ca.CaPath,
    };

    private static X509Certificate2 Load(HostCertificate host) => X509Certificate2.CreateFromPem(File.ReadAllText(host.CertificatePath));
}
