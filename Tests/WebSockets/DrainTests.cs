using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

public sealed class DrainTests
{
    [Fact]
    public async Task Stopping_a_silo_closes_its_sockets_with_1012()
    {
        await using var factory = new SiloHostFactory();
        var baseAddress = factory.BaseAddress;
        using var api = new ApiClient(baseAddress);
        await using var client = await SocketClient.ConnectAsync(baseAddress, await api.TokenAsync(SiloHostFixture.NewId("drain")));
        var (ready, _) = await api.GetAsync("/health/ready", token: null);
        Assert.Equal(200, ready);

        var stopping = factory.Services.GetRequiredService<IHostApplicationLifetime>();
        stopping.StopApplication();

        var status = await client.WaitForCloseAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((WebSocketCloseStatus)1012, status);
    }
}
