using System.Net.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md rate limiting: <c>rate_limited</c> errors, then close 4029 when it goes on.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(RateLimitedHostCollection.Name)]
public sealed class RateLimitTests(RateLimitedHostFixture host)
{
    [Fact]
    public async Task Frames_over_the_rate_get_rate_limited_and_are_not_acted_on_then_the_socket_closes_with_4029()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var aliceToken = TestTokens.Mint(alice);

        // Warm the grains through REST (not rate limited), so the socket's sends below take milliseconds and
        // no token is refilled between them.
        Assert.Equal(200, (await host.Api.PostAsync("/api/messages", aliceToken, new { to = $"user:{bob}", body = 0 })).Status);
        await using var a = await host.ConnectAsync(alice);

        // Burst of 2 allowed; the next three in a row are refused (each answered: a refusal alone does not
        // close), and the third refusal in a row closes the socket.
        for (var i = 1; i <= 5; i++)
        {
            await a.SendAsync(new { type = "send", id = $"s-{i}", to = $"user:{bob}", body = i });
        }

        var status = await a.WaitForCloseAsync();

        Assert.Equal((WebSocketCloseStatus)4029, status);
        Assert.Equal("ack", a.Frames.Single(f => f.Str("id") == "s-1").Type());
        Assert.Equal("ack", a.Frames.Single(f => f.Str("id") == "s-2").Type());
        for (var i = 3; i <= 5; i++)
        {
            Protocol.AssertError(a.Frames.Single(f => f.Str("id") == $"s-{i}"), $"s-{i}", "rate_limited");
        }

        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", aliceToken);
        Assert.Equal([0, 1, 2], history.Body.EnumerateArray().Select(m => m.GetProperty("body").GetInt32()));
    }
}
