using System.ComponentModel.DataAnnotations;

namespace Switchboard.Cluster.Security;

/// <summary>
/// Mutual TLS on the Orleans connections (silo to silo, and the gateway's client to the silos): each end presents
/// its certificate and accepts the other's only if it chains to <see cref="CaPath"/> or is one of
/// <see cref="PinnedCertificates"/>. Each host binds it under its own section (<c>Switchboard:Silo:InternalTls</c>,
/// <c>Switchboard:Gateway:InternalTls</c>).
/// </summary>
public abstract class InternalTlsOptions : IValidatableObject
{
    private readonly string _section;

    protected InternalTlsOptions(string section) => _section = section;

    /// <summary>Whether Orleans traffic is TLS. Default false: every silo and the gateway must agree.</summary>
    public bool Enabled { get; set; }

    /// <summary>This host's certificate: a PEM certificate (chain) with <see cref="KeyPath"/>, or a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 <see cref="CertificatePath"/> or of an encrypted PEM <see cref="KeyPath"/>. Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>PEM file of the CA certificate(s) a peer's certificate must chain to (the internal CA, not the system store).</summary>
    public string? CaPath { get; set; }

    /// <summary>
    /// SHA-256 fingerprints (hex, colons allowed) of the only peer certificates accepted. With <see cref="CaPath"/>, a peer
    /// must pass both; alone, pinning replaces the CA (self-signed certificates).
    /// </summary>
    public string[] PinnedCertificates { get; set; } = [];

    /// <summary>How long a TLS handshake may take before the connection is dropped. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The configured fingerprints, normalized to upper-case hex without separators.</summary>
    internal IReadOnlySet<string> Pins => PinnedCertificates.Select(Normalize).ToHashSet(StringComparer.Ordinal);

    internal bool IsPkcs12 => CertificatePath is { } path && (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase));

    /// <summary>Refuses a half-configured setup: on without a certificate, a key, or a way to check peers.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(CertificatePath))
        {
            yield return Error($"{_section}:Enabled needs {_section}:CertificatePath (a PEM certificate with KeyPath, or a .pfx).", nameof(CertificatePath));
        }
        else if (!File.Exists(CertificatePath))
        {
            yield return Error($"{_section}:CertificatePath: no file at '{CertificatePath}'.", nameof(CertificatePath));
        }
        else if (!IsPkcs12 && string.IsNullOrWhiteSpace(KeyPath))
        {
            yield return Error($"{_section}:KeyPath is required with a PEM {_section}:CertificatePath.", nameof(KeyPath));
        }

        if (!string.IsNullOrWhiteSpace(KeyPath) && !File.Exists(KeyPath))
        {
            yield return Error($"{_section}:KeyPath: no file at '{KeyPath}'.", nameof(KeyPath));
        }

        if (string.IsNullOrWhiteSpace(CaPath) && PinnedCertificates.Length == 0)
        {
            yield return Error($"{_section}:Enabled needs {_section}:CaPath or {_section}:PinnedCertificates: peers are never accepted unchecked.", nameof(CaPath));
        }
        else if (!string.IsNullOrWhiteSpace(CaPath) && !File.Exists(CaPath))
        {
            yield return Error($"{_section}:CaPath: no file at '{CaPath}'.", nameof(CaPath));
        }

        foreach (var pin in PinnedCertificates)
        {
            if (Normalize(pin) is not { Length: 64 } hex || !hex.All(char.IsAsciiHexDigit))
            {
                yield return Error($"{_section}:PinnedCertificates: '{pin}' is not a SHA-256 fingerprint (64 hex digits).", nameof(PinnedCertificates));
            }
        }
    }

    private static string Normalize(string fingerprint) => fingerprint.Replace(":", string.Empty, StringComparison.Ordinal).Trim().ToUpperInvariant();

    private static ValidationResult Error(string message, string member) => new(message, [member]);
}
