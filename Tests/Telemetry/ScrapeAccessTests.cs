using System.Net;
using Switchboard.Telemetry;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Telemetry;

/// <summary>The Local exposure's rule: loopback and the configured networks may scrape, nobody else.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class ScrapeAccessTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.3.2.1", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.0.3.17", true)]
    [InlineData("::ffff:10.0.3.17", true)]
    [InlineData("10.0.4.17", false)]
    [InlineData("203.0.113.9", false)]
    [InlineData("fd00::5", true)]
    [InlineData("fd01::5", false)]
    public void Loopback_and_the_configured_networks_may_scrape(string address, bool allowed) =>
        Assert.Equal(allowed, new ScrapeAccess(["10.0.3.0/24", "fd00::/16"]).Allows(IPAddress.Parse(address)));

    [Fact]
    public void Without_networks_only_loopback_may_scrape_and_an_unknown_address_may_not()
    {
        var access = new ScrapeAccess([]);
        Assert.True(access.Allows(IPAddress.Loopback));
        Assert.False(access.Allows(IPAddress.Parse("192.168.1.10")));
        Assert.False(access.Allows(null));
    }
}
