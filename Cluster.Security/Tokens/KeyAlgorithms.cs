using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>
/// Which <c>alg</c> a key may check. Each key takes only its own family: an RSA or EC public key is never used as an
/// HMAC secret (the algorithm-confusion attack), and <c>none</c> is never accepted.
/// </summary>
public static class KeyAlgorithms
{
    /// <summary>Every algorithm a host can be configured to accept.</summary>
    public static readonly IReadOnlySet<string> Known = new HashSet<string>(StringComparer.Ordinal)
    {
        SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512,
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    };

    /// <summary>Accepted when <see cref="AuthOptions.ValidAlgorithms"/> is empty.</summary>
    public static readonly IReadOnlyList<string> Defaults = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.HmacSha256];

    /// <summary>Whether <paramref name="algorithm"/> is allowed and belongs to <paramref name="key"/>'s family.</summary>
    public static bool Fits(string algorithm, SecurityKey key, IReadOnlyList<string> allowed)
    {
        if (!allowed.Contains(algorithm) || !Known.Contains(algorithm))
        {
            return false;
        }

        // A published key that names its algorithm is used with that one only.
        if (key is JsonWebKey { Alg: { Length: > 0 } declared } && !string.Equals(declared, algorithm, StringComparison.Ordinal))
        {
            return false;
        }

        return Family(key) switch
        {
            KeyFamily.Symmetric => algorithm.StartsWith("HS", StringComparison.Ordinal),
            KeyFamily.Rsa => algorithm.StartsWith("RS", StringComparison.Ordinal) || algorithm.StartsWith("PS", StringComparison.Ordinal),
            KeyFamily.EllipticCurve => algorithm.StartsWith("ES", StringComparison.Ordinal),
            _ => false,
        };
    }

    internal static KeyFamily Family(SecurityKey key) => key switch
    {
        SymmetricSecurityKey => KeyFamily.Symmetric,
        RsaSecurityKey => KeyFamily.Rsa,
        ECDsaSecurityKey => KeyFamily.EllipticCurve,
        JsonWebKey { Kty: JsonWebAlgorithmsKeyTypes.RSA } => KeyFamily.Rsa,
        JsonWebKey { Kty: JsonWebAlgorithmsKeyTypes.EllipticCurve } => KeyFamily.EllipticCurve,
        _ => KeyFamily.Unknown,
    };

    internal enum KeyFamily
    {
        Unknown,
        Symmetric,
        Rsa,
        EllipticCurve,
    }
}
