using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Switchboard.Gateway.Diagnostics;

namespace Switchboard.Gateway.Hosting;

/// <summary>
/// A server certificate from PEM files (certificate chain and key) or a PFX, read again when the files change on
/// disk: new handshakes get the renewed certificate, connections already open keep theirs. A renewal that cannot be
/// read (half written, a key that does not match) is logged and the certificate in use stays.
/// </summary>
public sealed class RenewableCertificate
{
    // A stat of two files at most once a second, on a handshake: cheap, and no file watcher to miss a rename.
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    private readonly string _path;
    private readonly string? _keyPath;
    private readonly string? _password;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private volatile Loaded _loaded;
    private FileStamp? _failed;
    private long _nextCheck;

    public RenewableCertificate(string path, string? keyPath, string? password, ILogger logger)
    {
        (_path, _keyPath, _password, _logger) = (path, keyPath, password, logger);
        _loaded = Load(Stamp());
        _nextCheck = Environment.TickCount64 + (long)CheckEvery.TotalMilliseconds;
    }

    /// <summary>The certificate (with its chain) for the next handshake.</summary>
    public SslStreamCertificateContext Current
    {
        get
        {
            var now = Environment.TickCount64;
            if (now >= Volatile.Read(ref _nextCheck))
            {
                Volatile.Write(ref _nextCheck, now + (long)CheckEvery.TotalMilliseconds);
                Refresh();
            }

            return _loaded.Context;
        }
    }

    private void Refresh()
    {
        FileStamp stamp;
        try
        {
            stamp = Stamp();
        }
        catch (IOException)
        {
            // Between a delete and a create: the next check sees the new files.
            return;
        }

        lock (_gate)
        {
            if (stamp == _loaded.Stamp || stamp == _failed)
            {
                return;
            }

            try
            {
                _loaded = Load(stamp);
                _failed = null;
                GatewayLog.CertificateRenewed(_logger, _path, _loaded.Context.TargetCertificate.Thumbprint);
            }
            catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                _failed = stamp;
                GatewayLog.CertificateRenewalFailed(_logger, _path, exception.GetType().Name, _loaded.Context.TargetCertificate.Thumbprint);
            }
        }
    }

    private FileStamp Stamp()
    {
        var certificate = new FileInfo(_path);
        var key = _keyPath is null ? null : new FileInfo(_keyPath);
        if (!certificate.Exists || key is { Exists: false })
        {
            throw new FileNotFoundException("The certificate or key file is missing.", certificate.Exists ? _keyPath : _path);
        }

        return new FileStamp(certificate.LastWriteTimeUtc, certificate.Length, key?.LastWriteTimeUtc, key?.Length);
    }

    private Loaded Load(FileStamp stamp)
    {
        X509Certificate2 leaf;
        var chain = new X509Certificate2Collection();
        if (_keyPath is not null)
        {
            using var pem = _password is null
                ? X509Certificate2.CreateFromPemFile(_path, _keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(_path, _password, _keyPath);

            // Through PKCS#12 so the key is usable by SslStream on every platform (PEM keys are ephemeral).
            leaf = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
            chain.ImportFromPemFile(_path);
        }
        else
        {
            chain = X509CertificateLoader.LoadPkcs12CollectionFromFile(_path, _password);
            leaf = chain.FirstOrDefault(c => c.HasPrivateKey) ?? throw new CryptographicException("The PFX holds no certificate with a private key.");
        }

        var intermediates = new X509Certificate2Collection(chain.Where(c => c.Thumbprint != leaf.Thumbprint).ToArray());
        return new Loaded(SslStreamCertificateContext.Create(leaf, intermediates, offline: true), stamp);
    }

    private sealed record FileStamp(DateTime CertificateWritten, long CertificateLength, DateTime? KeyWritten, long? KeyLength);

    private sealed record Loaded(SslStreamCertificateContext Context, FileStamp Stamp);
}
