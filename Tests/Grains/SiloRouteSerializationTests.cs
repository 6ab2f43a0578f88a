using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Switchboard.Cluster;
using Switchboard.Connections;
using Switchboard.Grains.Users;
using Switchboard.Identity;
using Switchboard.Users;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

[Trait(Category.Name, Category.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class SiloRouteSerializationTests(ClusterFixture fixture)
{
    [Fact]
    public void A_silo_route_round_trips_with_its_silo_and_sink_reference()
    {
        var route = fixture.Router(0).Route;
        var serializer = fixture.SiloServices(1).GetRequiredService<Serializer>();

        var copy = serializer.Deserialize<SiloRoute>(serializer.SerializeToArray(route))!;

        Assert.Equal(route.Silo, copy.Silo);
        Assert.Equal(((GrainReference)route.Sink).GrainId, ((GrainReference)copy.Sink).GrainId);
        Assert.Equal(route, copy);
    }

    [Fact]
    public void A_silo_http_endpoint_round_trips()
    {
        var endpoint = new SiloHttpEndpoint(fixture.Router(0).Route.Silo, "silo-1", "http://10.0.0.11:5000");
        var serializer = fixture.SiloServices(1).GetRequiredService<Serializer>();

        var copy = serializer.Deserialize<SiloHttpEndpoint>(serializer.SerializeToArray(endpoint))!;

        Assert.Equal(endpoint, copy);
    }

    [Fact]
    public void Token_revocations_state_round_trips_with_its_silos()
    {
        var state = new TokenRevocationsState { Version = 3, Silos = [fixture.Router(0).Route] };
        state.Revocations["alice"] = new TokenRevocation(new UserId("alice"), DateTimeOffset.UnixEpoch.AddDays(20000), DateTimeOffset.UnixEpoch.AddDays(20001));
        var serializer = fixture.SiloServices(1).GetRequiredService<Serializer>();

        var copy = serializer.Deserialize<TokenRevocationsState>(serializer.SerializeToArray(state))!;

        Assert.Equal(3, copy.Version);
        Assert.Equal(state.Silos, copy.Silos);
        Assert.Equal(state.Revocations["alice"], copy.Revocations["alice"]);
        Assert.False(copy.Revocations.ContainsKey("Alice"));
    }
}
