using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Switchboard.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Switchboard.Tests.Cli;

/// <summary>
/// <c>tail</c> through a gateway that goes away under it: the socket drops, the tail backs off and reconnects when a
/// gateway answers on that address again, and resumes, so every message (those sent while it was away included, in a
/// conversation that began meanwhile too) is printed once, in order.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(CliCollection.Name)]
public sealed class CliTailReconnectTests(CliFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_tail_survives_a_dropped_connection_and_resumes_without_loss_or_duplicate()
    {
        var port = FreePort();
        var settings = new Dictionary<string, string?> { ["Switchboard:Gateway:HttpsUrl"] = $"https://127.0.0.1:{port}" };
        var (alice, bob, carol) = (CliFixture.NewId("cli-ra"), CliFixture.NewId("cli-rb"), CliFixture.NewId("cli-rc"));
        var (aliceToken, carolToken) = (await fixture.Api.TokenAsync(alice), await fixture.Api.TokenAsync(carol));
        var sent = 0;
        async Task SendAsync(string token, int count)
        {
            for (var i = 0; i < count; i++)
            {
                Assert.Equal(200, (await fixture.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = new { text = $"m{++sent}" } })).Status);
            }
        }

        var first = new GatewayFactory(fixture.Silo.BaseAddress, settings);
        await Wait.UntilAsync(() => first.Destinations.Count == 1, "the first gateway publishes the silo");
        await using var tail = CliRunner.Start(
            "--server", $"https://127.0.0.1:{port}", "--insecure", "--user", bob, "--json",
            "tail", "--count", "9", "--backoff-initial", "0.05", "--backoff-cap", "0.5", "--max-attempts", "200");
        await tail.ConnectedAsync();
        await SendAsync(aliceToken, 3);
        await Wait.UntilAsync(() => tail.Lines.Length == 3, "the tail printed the first 3 messages");

        // The gateway stops: its sockets drop, and nothing answers on that port until the second one starts.
        await first.DisposeAsync();
        await Wait.UntilAsync(() => tail.Error.Text.Contains("reconnecting", StringComparison.Ordinal), "the tail noticed and backs off");
        await SendAsync(aliceToken, 3);
        await SendAsync(carolToken, 1);

        await using var second = new GatewayFactory(fixture.Silo.BaseAddress, settings);
        await Wait.UntilAsync(() => second.Destinations.Count == 1, "the second gateway publishes the silo");
        _ = second.BaseAddress;
        await tail.ConnectedAsync(times: 2);
        await SendAsync(aliceToken, 2);

        var run = await tail.EndAsync();
        output.WriteLine(run.Error);
        Assert.Equal(0, run.ExitCode);
        var printed = run.Lines.Select(l => JsonDocument.Parse(l).RootElement).Select(m => (Conversation: m.GetProperty("conversation").GetString()!, Seq: m.GetProperty("seq").GetInt64())).ToList();
        var withAlice = $"dm:{Min(alice, bob)}:{Max(alice, bob)}";
        var withCarol = $"dm:{Min(carol, bob)}:{Max(carol, bob)}";
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), printed.Where(p => p.Conversation == withAlice).Select(p => p.Seq));
        Assert.Equal([1L], printed.Where(p => p.Conversation == withCarol).Select(p => p.Seq));
        Assert.Equal(9, printed.Count);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Min(string a, string b) => string.CompareOrdinal(a, b) < 0 ? a : b;

    private static string Max(string a, string b) => string.CompareOrdinal(a, b) < 0 ? b : a;
}
