using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Auth;

/// <summary>
/// <c>POST /api/dev/token</c> mints any token, admin included: off unless configuration turns it on, never in
/// Production, announced in the log when on, and not published by the gateway unless it is told to.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
public sealed class DevTokenTests
{
    private static readonly Dictionary<string, string?> NothingConfigured = new() { ["Switchboard:Auth:DevTokens"] = null };

    [Fact]
    public async Task A_Production_silo_with_nothing_configured_serves_no_dev_tokens()
    {
        await using var factory = new SiloHostFactory(NothingConfigured, environment: "Production");
        using var api = new ApiClient(factory.BaseAddress);

        var reply = await api.PostAsync("/api/dev/token", token: null, new { user = "mallory", role = "admin" });

        Assert.Equal(404, reply.Status);
    }

    [Fact]
    public async Task A_Production_silo_with_dev_tokens_on_refuses_to_start_and_says_why()
    {
        var factory = new SiloHostFactory(new Dictionary<string, string?> { ["Switchboard:Auth:DevTokens"] = "true" }, environment: "Production");

        var refused = await factory.StartExpectingRefusalAsync();

        Assert.NotNull(refused);
        Assert.Contains("DevTokens", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Production", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_development_environment_turns_dev_tokens_on_for_the_embedded_default()
    {
        await using var factory = new SiloHostFactory(NothingConfigured, environment: "Development");
        using var api = new ApiClient(factory.BaseAddress);

        var token = await api.TokenAsync(SiloHostFixture.NewId("alice"));

        Assert.NotEmpty(token);
    }

    [Fact]
    public async Task A_silo_with_dev_tokens_on_logs_a_warning_at_start()
    {
        await using var factory = new SiloHostFactory();

        _ = factory.BaseAddress;

        Assert.Contains(factory.Logs.Lines, line => line.StartsWith("Warning Switchboard.Silo.Auth[6001] Dev tokens are on", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_gateway_answers_dev_token_requests_with_404_itself_unless_configured_to_route_them()
    {
        await using var silo = new SiloHostFactory();
        await using var closed = new GatewayFactory(silo.BaseAddress, new Dictionary<string, string?> { ["Switchboard:Gateway:RouteDevTokens"] = "false" });
        await using var open = new GatewayFactory(silo.BaseAddress, new Dictionary<string, string?> { ["Switchboard:Gateway:RouteDevTokens"] = "true" });
        await Wait.UntilAsync(() => closed.Destinations.Count == 1 && open.Destinations.Count == 1, "both gateways publish the silo");
        using var closedApi = closed.Api();
        using var openApi = open.Api();
        var body = new { user = SiloHostFixture.NewId("mallory"), role = "admin" };

        Protocol.AssertProblem(await closedApi.PostAsync("/api/dev/token", token: null, body), 404, "not_found");
        Protocol.AssertProblem(await closedApi.PostAsync("/api/dev/anything/else", token: null, body), 404, "not_found");
        Assert.Equal(200, (await openApi.PostAsync("/api/dev/token", token: null, body)).Status);
    }
}
