using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cli;

/// <summary><c>send</c> against a host whose per-user send budget (4, barely refilling) runs out: the refusal's code and exit.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(BudgetHostCollection.Name)]
public sealed class CliRateLimitTests(BudgetHostFixture host)
{
    [Fact]
    public async Task A_send_over_the_users_budget_exits_6_with_rate_limited()
    {
        var (alice, bob) = (CliFixture.NewId("cli-rl"), CliFixture.NewId("cli-rl"));
        var environment = new Dictionary<string, string> { ["SWITCHBOARD_TOKEN"] = TestTokens.Mint(alice), ["SWITCHBOARD_SERVER"] = host.BaseAddress.ToString() };
        for (var i = 1; i <= 4; i++)
        {
            var sent = await CliRunner.RunAsync(environment, "send", $"user:{bob}", $"m{i}");
            Assert.True(sent.ExitCode == 0, sent.ToString());
        }

        var refused = await CliRunner.RunAsync(environment, "send", $"user:{bob}", "one too many");
        Assert.Equal(6, refused.ExitCode);
        Assert.StartsWith("error: rate_limited: ", refused.Error);
        Assert.Empty(refused.Output);
    }
}
