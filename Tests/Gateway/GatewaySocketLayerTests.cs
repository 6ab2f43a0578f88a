using Switchboard.Silo.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Gateway;

/// <summary>
/// Sockets through the gateway reach the silo as the first request of their connection, so the silo takes them at
/// its connection layer (the lighter one), even when a REST call through the gateway went to the same silo just before.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(RestrictedHostCollection.Name)]
public sealed class GatewaySocketLayerTests(RestrictedHostFixture host)
{
    private const string Instrument = "switchboard.sockets.opened";

    [Fact]
    public async Task A_socket_opened_right_after_a_REST_call_through_the_gateway_is_taken_at_the_silos_connection_layer()
    {
        await using var gateway = new GatewayFactory(host.BaseAddress);
        await Wait.UntilAsync(() => gateway.Destinations.Count == 1, "the gateway publishes the silo");
        using var api = gateway.Api();
        using var connectionLayer = new MeterCounter(host.Factory.Services, "Switchboard.Silo", Instrument, ("layer", WebSocketEndpoint.ConnectionLayer));
        using var httpLayer = new MeterCounter(host.Factory.Services, "Switchboard.Silo", Instrument, ("layer", WebSocketEndpoint.HttpLayer));

        // Each round leaves an idle pooled connection to the silo behind its REST call: the way a client logs in and
        // then connects. A shared pool would hand that connection to the upgrade.
        const int Rounds = 3;
        var sockets = new List<SocketClient>();
        try
        {
            for (var i = 0; i < Rounds; i++)
            {
                var user = SiloHostFixture.NewId("layer");
                var token = TestTokens.Mint(user);
                var (status, _) = await api.GetAsync($"/api/users/{user}/conversations", token);
                Assert.Equal(200, status);

                var socket = await gateway.ConnectAsync(token);
                sockets.Add(socket);
                await socket.PingAsync();
                Assert.Equal(user, socket.Welcome.Str("user"));
            }

            await Wait.UntilAsync(() => connectionLayer.Total == Rounds, $"{Rounds} sockets counted at the connection layer (now {connectionLayer.Total}, HTTP layer {httpLayer.Total})");
            Assert.Equal(0, httpLayer.Total);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }
}
