using System.Net;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Gateway;

/// <summary>
/// The Orleans Dashboard through the gateway, logged in the way the chat page does it: one request with the token in
/// the query sets the dashboard's cookie, then the page and its XHR polls (relative paths under /dashboard/) go
/// through the proxy with that cookie alone. Admins only.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class GatewayDashboardTests(SiloHostFixture host)
{
    [Fact]
    public async Task An_admin_logs_in_through_the_gateway_and_the_dashboard_and_its_polls_answer_with_the_cookie_alone()
    {
        await using var gateway = await StartGatewayAsync();
        using var browser = Browser(gateway, out var cookies);
        var token = TestTokens.Mint(SiloHostFixture.NewId("admin"), role: "admin");

        using var login = await browser.GetAsync($"/dashboard/?access_token={token}");
        using var page = await browser.GetAsync("/dashboard/");
        using var poll = await browser.GetAsync("/dashboard/DashboardCounters");

        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal("sb_dashboard", Assert.Single(cookies.GetAllCookies()).Name);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<title>Orleans Dashboard</title>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        Assert.Equal("application/json", poll.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"hosts\"", await poll.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("student", HttpStatusCode.Forbidden)]
    [InlineData("teacher", HttpStatusCode.Forbidden)]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    public async Task Anyone_but_an_admin_is_refused_through_the_gateway_and_gets_no_cookie(string? role, HttpStatusCode expected)
    {
        await using var gateway = await StartGatewayAsync();
        using var browser = Browser(gateway, out var cookies);
        var query = role is null ? "" : $"?access_token={TestTokens.Mint(SiloHostFixture.NewId(role), role: role)}";

        using var login = await browser.GetAsync($"/dashboard/{query}");
        using var poll = await browser.GetAsync("/dashboard/DashboardCounters");

        Assert.Equal(expected, login.StatusCode);
        Assert.Empty(cookies.GetAllCookies());
        Assert.Equal(HttpStatusCode.Unauthorized, poll.StatusCode);
    }

    private async Task<GatewayFactory> StartGatewayAsync()
    {
        var gateway = new GatewayFactory(host.BaseAddress);
        await Wait.UntilAsync(() => gateway.Destinations.Count == 1, "the gateway publishes the silo");
        return gateway;
    }

    /// <summary>An HTTP client that keeps cookies as a browser does (per origin and path), trusting only the gateway's certificate.</summary>
    private static HttpClient Browser(GatewayFactory gateway, out CookieContainer cookies)
    {
        cookies = new CookieContainer();
        return new HttpClient(new SocketsHttpHandler
        {
            CookieContainer = cookies,
            UseCookies = true,
            SslOptions = { RemoteCertificateValidationCallback = gateway.ValidateCertificate },
        })
        { BaseAddress = gateway.BaseAddress };
    }
}
