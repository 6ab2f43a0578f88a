using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Contracts;

/// <summary>What a client sees on the socket when a frame breaks the client frame contract.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class MalformedFrameSocketTests(SiloHostFixture host)
{
    [Fact]
    public async Task Invalid_json_gets_bad_request_with_a_null_id_and_the_socket_stays_open()
    {
        await using var client = await host.ConnectAsync(SiloHostFixture.NewId("malformed"));

        await client.SendTextAsync("""{"type":"ping","id":"p-1"} trailing""");
        var error = await client.WaitForAsync(f => f.Type() == "error", "the error frame");

        Assert.Equal(System.Text.Json.JsonValueKind.Null, error.GetProperty("id").ValueKind);
        Assert.Equal("bad_request", error.Str("code"));
        var pong = await client.RequestAsync(new { type = "ping", id = "p-2" });
        Assert.Equal("pong", pong.Type());
    }

    [Fact]
    public async Task A_lone_surrogate_escape_gets_bad_request_and_the_socket_stays_open()
    {
        await using var client = await host.ConnectAsync(SiloHostFixture.NewId("surrogate"));

        await client.SendTextAsync("""{"type":"ping","id":"\ud800"}""");
        var error = await client.WaitForAsync(f => f.Type() == "error", "the error frame");

        Assert.Equal("bad_request", error.Str("code"));
        var pong = await client.RequestAsync(new { type = "ping", id = "p-3" });
        Assert.Equal("pong", pong.Type());
    }
}
