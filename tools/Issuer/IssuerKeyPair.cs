using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Issuer;

/// <summary>The issuer's ES256 key pair; its <c>kid</c> is the RFC 7638 thumbprint of the public key, so it changes only with the key.</summary>
public sealed class IssuerKeyPair : IDisposable
{
    private readonly ECDsa _key;

    private IssuerKeyPair(ECDsa key)
    {
        _key = key;
        var securityKey = new ECDsaSecurityKey(key);
        KeyId = Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromECDsaSecurityKey(securityKey).ComputeJwkThumbprint());
        securityKey.KeyId = KeyId;
        Credentials = new SigningCredentials(securityKey, SecurityAlgorithms.EcdsaSha256);
    }

    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;

    public string KeyId { get; }

    public SigningCredentials Credentials { get; }

    /// <summary>True when the key was read from <see cref="IssuerOptions.KeyPath"/>, false when it was made now.</summary>
    public bool Loaded { get; private init; }

    /// <summary>Reads the key at <paramref name="path"/>, or makes one and writes it there (owner-only); in memory only when there is no path.</summary>
    public static IssuerKeyPair Open(string? path)
    {
        if (path is not null && File.Exists(path))
        {
            var existing = ECDsa.Create();
            existing.ImportFromPem(File.ReadAllText(path));
            if (existing.KeySize != 256)
            {
                existing.Dispose();
                throw new InvalidOperationException($"{path} holds a {existing.KeySize}-bit key; the issuer signs ES256 with a P-256 key.");
            }

            return new IssuerKeyPair(existing) { Loaded = true };
        }

        var made = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (path is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var writer = new StreamWriter(path, options);
            writer.Write(made.ExportPkcs8PrivateKeyPem());
        }

        return new IssuerKeyPair(made);
    }

    /// <summary>The public key as a JWK (<c>kty</c> EC, <c>crv</c> P-256), the only member of the JWKS.</summary>
    public IReadOnlyDictionary<string, string> PublicJwk()
    {
        var point = _key.ExportParameters(includePrivateParameters: false).Q;
        return new Dictionary<string, string>
        {
            ["kty"] = "EC",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(point.X),
            ["y"] = Base64UrlEncoder.Encode(point.Y),
            ["kid"] = KeyId,
            ["use"] = "sig",
            ["alg"] = Algorithm,
        };
    }

    public void Dispose() => _key.Dispose();
}
