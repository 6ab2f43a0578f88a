using System.Net;

namespace Switchboard.Telemetry;

/// <summary>The <see cref="ScrapeExposure.Local"/> rule: loopback, or one of the configured networks.</summary>
public sealed class ScrapeAccess
{
    private readonly IPNetwork[] _networks;

    public ScrapeAccess(IEnumerable<string> networks)
    {
        _networks = networks.Select(n => IPNetwork.Parse(n)).ToArray();
    }

    /// <summary>
    /// Whether <paramref name="remote"/> may scrape. The address is the one the host believes, after its forwarded-headers
    /// rule: a request a trusted gateway forwards carries the client's address, never the gateway's loopback.
    /// </summary>
    public bool Allows(IPAddress? remote)
    {
        if (remote is null)
        {
            return false;
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        if (IPAddress.IsLoopback(remote))
        {
            return true;
        }

        foreach (var network in _networks)
        {
            if (network.Contains(remote))
            {
                return true;
            }
        }

        return false;
    }
}
