using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography.X509Certificates;
using Switchboard.Gateway.Hosting;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Gateway;

/// <summary>The certificate files the gateway re-reads on renewal, and the front door's options checks.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class RenewableCertificateTests
{
    [Fact]
    public async Task A_renewal_that_cannot_be_read_keeps_the_certificate_in_use_until_the_files_are_whole()
    {
        using var certificateA = GatewayTls.CreateSelfSigned();
        using var certificateB = GatewayTls.CreateSelfSigned();
        var directory = Directory.CreateTempSubdirectory("sb-renewable-").FullName;
        var (certPath, keyPath) = (Path.Combine(directory, "tls.crt"), Path.Combine(directory, "tls.key"));
        try
        {
            await File.WriteAllTextAsync(keyPath, certificateA.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            await File.WriteAllTextAsync(certPath, certificateA.ExportCertificatePem());
            using var logs = new CapturedLogs();
            var renewable = new RenewableCertificate(certPath, keyPath, password: null, logs.CreateLogger("renewal"));
            Assert.Equal(certificateA.Thumbprint, renewable.Current.TargetCertificate.Thumbprint);

            // Half renewed: B's certificate with A's key.
            await File.WriteAllTextAsync(certPath, certificateB.ExportCertificatePem());
            await Wait.UntilAsync(
                () =>
                {
                    _ = renewable.Current; // files are checked on a handshake, at most once a second
                    return logs.Lines.Any(l => l.Contains("[5032]", StringComparison.Ordinal));
                },
                "the unreadable renewal is logged");
            Assert.Equal(certificateA.Thumbprint, renewable.Current.TargetCertificate.Thumbprint);

            await File.WriteAllTextAsync(keyPath, certificateB.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            await Wait.UntilAsync(() => renewable.Current.TargetCertificate.Thumbprint == certificateB.Thumbprint, "the whole renewal is served");
            Assert.Contains(logs.Lines, l => l.Contains("[5031]", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(20, 10, 0, 0, "UpgradeBurst")]
    [InlineData(0, 0, 200, 100, "RequestBurst")]
    public void A_burst_below_its_rate_is_refused_at_start(int upgrades, int upgradeBurst, int requests, int requestBurst, string member)
    {
        var options = new GatewayHostOptions { UpgradesPerSecond = upgrades, UpgradeBurst = upgradeBurst, RequestsPerSecond = requests, RequestBurst = requestBurst };
        var errors = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true));
        Assert.Contains(errors, e => e.MemberNames.Contains(member));
    }

    [Fact]
    public void The_default_limits_and_HSTS_are_valid_and_documented_values()
    {
        var options = new GatewayHostOptions();
        Assert.True(Validator.TryValidateObject(options, new ValidationContext(options), [], validateAllProperties: true));
        Assert.Equal((20, 100, 200, 1000, 2000), (options.UpgradesPerSecond, options.UpgradeBurst, options.RequestsPerSecond, options.RequestBurst, options.OpenSocketsPerAddress));
        Assert.Equal(TimeSpan.FromDays(180), options.HstsMaxAge);
        Assert.False(options.HstsIncludeSubDomains);
    }
}
