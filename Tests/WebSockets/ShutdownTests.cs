using System.Net.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md close 1012: a node shutting down closes its sockets so clients reconnect elsewhere and resume.</summary>
[Trait(Category.Name, Category.Cluster)]
public sealed class ShutdownTests
{
    [Fact]
    public async Task A_node_shutting_down_closes_its_sockets_with_1012()
    {
        var factory = new SiloHostFactory();
        await using var socket = await SocketClient.ConnectAsync(factory.BaseAddress, TestTokens.Mint(SiloHostFixture.NewId("alice")));
        await socket.PingAsync();

        var stopping = factory.DisposeAsync().AsTask();
        var status = await socket.WaitForCloseAsync();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((WebSocketCloseStatus)1012, status);
    }
}
