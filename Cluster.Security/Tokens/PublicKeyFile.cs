using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>An RSA or EC public key in a PEM file; its <c>kid</c> is the file name without the extension.</summary>
public static class PublicKeyFile
{
    private static readonly Func<AsymmetricAlgorithm>[] s_families = [RSA.Create, ECDsa.Create];

    /// <summary>Null when <paramref name="path"/> holds one usable public key; otherwise why not.</summary>
    public static string? Problem(string path)
    {
        try
        {
            Load(path).Dispose();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            return e.Message;
        }
    }

    /// <summary>The key in <paramref name="path"/>; throws when the file is missing, holds a private key or no public one.</summary>
    public static LoadedKey Load(string path)
    {
        var text = File.ReadAllText(path);

        // Silos and the gateway only verify: a private key here means it was copied from the issuer, and now lives in two places.
        if (text.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new CryptographicException("holds a private key: give silos and gateways the public key only (`openssl pkey -pubout`).");
        }

        var kid = Path.GetFileNameWithoutExtension(path);
        foreach (var create in s_families)
        {
            var algorithm = create();
            try
            {
                algorithm.ImportFromPem(text);
                SecurityKey key = algorithm is RSA rsa ? new RsaSecurityKey(rsa) : new ECDsaSecurityKey((ECDsa)algorithm);
                key.KeyId = kid;
                return new LoadedKey(key, algorithm);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                // Not this family's key: try the next.
                algorithm.Dispose();
            }
        }

        throw new CryptographicException("holds no RSA or EC public key in PEM (-----BEGIN PUBLIC KEY-----).");
    }

    /// <summary>A key and the algorithm object behind it, disposed with it.</summary>
    public sealed record LoadedKey(SecurityKey Key, AsymmetricAlgorithm Algorithm) : IDisposable
    {
        public void Dispose() => Algorithm.Dispose();
    }
}
