using System.Net;

namespace Switchboard.Issuer;

/// <summary>Whether an address is loopback only: this issuer mints a token for anyone who can reach it.</summary>
public static class LoopbackAddress
{
    /// <summary>Null when <paramref name="url"/> is http(s) on 127.0.0.0/8, [::1] or localhost; otherwise what is wrong.</summary>
    public static string? Problem(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return $"'{url}' is not an http or https URL.";
        }

        return IsLoopback(uri.Host) ? null : $"'{url}' is not a loopback address: the issuer mints tokens for anyone who reaches it, so it listens on 127.0.0.1, [::1] or localhost only.";
    }

    // "localhost" binds both loopback addresses in Kestrel; "*", "+", "0.0.0.0" and "[::]" bind every interface.
    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
