using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Auth;

/// <summary>
/// The dashboard takes <c>access_token</c> from the query once and keeps it in a cookie: only a token that passed
/// validation, HttpOnly, SameSite=Strict, and Secure whenever the browser's scheme is https (behind the gateway too).
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class DashboardLoginTests(SiloHostFixture host)
{
    [Theory]
    [InlineData("garbage")]
    [InlineData("forged admin")]
    [InlineData("role array naming admin")]
    public async Task A_query_token_that_fails_validation_is_refused_with_401_and_sets_no_cookie(string kind)
    {
        var user = SiloHostFixture.NewId("mallory");
        var token = kind switch
        {
            "garbage" => "not-a-jwt",
            "forged admin" => TestTokens.Mint(user, role: "admin", signingKey: "5c0b6b7a3f0e4d2c9a8b1e6f7d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c"),
            _ => TestTokens.Mint(user, role: new[] { "student", "admin" }),
        };

        using var response = await GetDashboardAsync(host.BaseAddress, $"/dashboard/?access_token={token}");

        Assert.Equal(401, (int)response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"), $"a cookie was set from a token that failed validation: {string.Join("; ", SetCookies(response))}");
    }

    [Fact]
    public async Task A_validated_query_token_is_kept_in_an_HttpOnly_SameSite_Strict_cookie_that_opens_the_dashboard()
    {
        var token = TestTokens.Mint(SiloHostFixture.NewId("admin"), role: "admin");

        using var login = await GetDashboardAsync(host.BaseAddress, $"/dashboard/?access_token={token}");
        var cookie = Assert.Single(SetCookies(login));
        using var withCookie = await GetDashboardAsync(host.BaseAddress, "/dashboard/", cookie.Split(';')[0]);

        Assert.Equal(200, (int)login.StatusCode);
        Assert.StartsWith("sb_dashboard=", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/dashboard", cookie, StringComparison.OrdinalIgnoreCase);

        // Plain http straight to the silo (the embedded default): a Secure cookie would never come back.
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(200, (int)withCookie.StatusCode);
    }

    [Fact]
    public async Task Behind_the_gateway_the_cookie_is_Secure_though_the_silo_trusts_no_proxy()
    {
        var token = TestTokens.Mint(SiloHostFixture.NewId("admin"), role: "admin");
        await using var gateway = new GatewayFactory(host.BaseAddress);
        await Wait.UntilAsync(() => gateway.Destinations.Count == 1, "the gateway publishes the silo");
        using var api = gateway.Api();

        using var login = await api.Http.GetAsync($"/dashboard/?access_token={token}");
        var cookie = Assert.Single(SetCookies(login));

        Assert.Equal(200, (int)login.StatusCode);
        Assert.Contains("secure", cookie.Split(';').Select(p => p.Trim().ToLowerInvariant()));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
    }

    private static IEnumerable<string> SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [];

    private static async Task<HttpResponseMessage> GetDashboardAsync(Uri baseAddress, string path, string? cookie = null)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = baseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        return await http.SendAsync(request);
    }
}
