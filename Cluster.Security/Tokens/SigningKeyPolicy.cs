using System.Buffers.Text;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>
/// What a symmetric signing key must look like to be accepted at start: hex (64+ characters) or base64 (standard
/// or URL-safe) of at least 32 bytes that look random. The key is still used as written (its UTF-8 text is the
/// HMAC key, as token issuers use it): the encoding is what lets a silo tell random bytes from a password.
/// </summary>
public static class SigningKeyPolicy
{
    /// <summary>The fewest bytes a key must decode to (HMAC-SHA256's block of security).</summary>
    public const int MinimumBytes = 32;

    // 32 random bytes hold about 30 distinct values, and fewer than 20 happens about never; a repeated character
    // or a short repeated pattern holds a handful.
    private const int MinimumDistinctBytes = 20;

    private const string Placeholder = "CHANGE-ME";

    /// <summary>Null when <paramref name="key"/> is acceptable; otherwise why not, as the end of a sentence naming the key.</summary>
    public static string? Check(string key)
    {
        if (key.Contains(Placeholder, StringComparison.OrdinalIgnoreCase))
        {
            return $"is a placeholder (it contains {Placeholder}): make a key with `openssl rand -hex 32`.";
        }

        if (!TryDecode(key, out var bytes))
        {
            return $"must be hex (64 or more characters) or base64 of {MinimumBytes}+ random bytes, e.g. `openssl rand -hex 32`.";
        }

        if (bytes.Length < MinimumBytes)
        {
            return $"decodes to {bytes.Length} bytes; it needs at least {MinimumBytes} (e.g. `openssl rand -hex 32`).";
        }

        var distinct = bytes.Distinct().Count();
        if (distinct < MinimumDistinctBytes)
        {
            return $"does not look random ({distinct} distinct byte values in {bytes.Length}): make a key with `openssl rand -hex 32`.";
        }

        return null;
    }

    /// <summary>The bytes <paramref name="key"/> encodes: hex first (hex text is also valid base64), then base64, then base64url.</summary>
    internal static bool TryDecode(string key, out byte[] bytes)
    {
        var text = key.Trim();
        if (text.Length % 2 == 0 && text.Length > 0 && text.All(char.IsAsciiHexDigit))
        {
            bytes = Convert.FromHexString(text);
            return true;
        }

        var buffer = new byte[text.Length];
        if (Convert.TryFromBase64String(text, buffer, out var written))
        {
            bytes = buffer[..written];
            return true;
        }

        if (Base64Url.IsValid(text.AsSpan().TrimEnd('='), out var length))
        {
            bytes = Base64Url.DecodeFromChars(text.AsSpan().TrimEnd('='));
            return bytes.Length == length;
        }

        bytes = [];
        return false;
    }
}
