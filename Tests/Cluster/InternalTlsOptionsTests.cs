using System.ComponentModel.DataAnnotations;
using Switchboard.Cluster.Security;
using Switchboard.Silo.Hosting;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cluster;

/// <summary>Internal TLS turned on must be whole: a certificate with its key, and a way to check peers.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class InternalTlsOptionsTests : IDisposable
{
    private readonly TestCertificateAuthority _ca = new("options");

    [Fact]
    public void Internal_TLS_that_is_on_but_half_configured_is_refused()
    {
        var certificate = _ca.Issue("silo-1");
        Assert.Contains("CertificatePath", Errors(new SiloInternalTlsOptions { Enabled = true, CaPath = certificate.CaPath }));
        Assert.Contains("KeyPath", Errors(new SiloInternalTlsOptions { Enabled = true, CertificatePath = certificate.CertificatePath, CaPath = certificate.CaPath }));
        Assert.Contains("CaPath or", Errors(new SiloInternalTlsOptions { Enabled = true, CertificatePath = certificate.CertificatePath, KeyPath = certificate.KeyPath }));
        Assert.Contains("not a SHA-256", Errors(new SiloInternalTlsOptions { Enabled = true, CertificatePath = certificate.CertificatePath, KeyPath = certificate.KeyPath, PinnedCertificates = ["AB:CD"] }));
        Assert.Empty(Errors(new SiloInternalTlsOptions { Enabled = true, CertificatePath = certificate.CertificatePath, KeyPath = certificate.KeyPath, PinnedCertificates = [certificate.Sha256] }));
        Assert.Empty(Errors(new SiloInternalTlsOptions()));
    }

    public void Dispose() => _ca.Dispose();

    private static string Errors(InternalTlsOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new(options), results, validateAllProperties: true);
        return string.Join(" ", results.Select(r => r.ErrorMessage));
    }
}
