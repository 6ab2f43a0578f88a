using System.Net;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>Where keys may be fetched from: https, or plain http only on this machine (a test or a local issuer).</summary>
public static class KeyUrls
{
    /// <summary>Null when <paramref name="url"/> is acceptable; otherwise why not, as the end of a sentence naming it.</summary>
    public static string? Problem(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return $"'{url}' is not an absolute URL.";
        }

        if (uri.Scheme == Uri.UriSchemeHttps)
        {
            return null;
        }

        return uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri)
            ? null
            : $"'{url}' must be https (plain http only on loopback): keys fetched in the clear can be swapped by anyone on the path.";
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));
}
