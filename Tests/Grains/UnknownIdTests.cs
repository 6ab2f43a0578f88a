using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>Asking about ids nobody uses (typos, or someone probing random ids) leaves no activation behind.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class UnknownIdTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_group_that_does_not_exist_is_not_kept_in_memory()
    {
        var group = new GroupId(SiloHostFixture.NewId("nosuch"));
        var caller = new Caller(new UserId(SiloHostFixture.NewId("probe")), "student");

        var get = await Assert.ThrowsAsync<SwitchboardException>(() => fixture.Grains.GetGroupGrain(group).GetAsync());
        await Assert.ThrowsAsync<SwitchboardException>(() => fixture.Grains.GetGroupGrain(group).JoinAsync(caller));

        Assert.Equal(ProtocolError.NotFound, get.Code);
        await Wait.UntilAsync(async () => !await IsActiveAsync(fixture.Grains.GetGroupGrain(group)), "the unknown group's activation to go");
    }

    [Fact]
    public async Task The_presence_of_a_user_nobody_uses_is_answered_without_keeping_the_user_in_memory()
    {
        var ghost = new UserId(SiloHostFixture.NewId("ghost"));

        var presence = await fixture.Grains.GetUserGrain(ghost).GetPresenceAsync();

        Assert.False(presence.Online);
        await Wait.UntilAsync(async () => !await IsActiveAsync(fixture.Grains.GetUserGrain(ghost)), "the offline user's activation to go");

        // A user with a socket stays.
        var alice = SiloHostFixture.NewId("alice");
        await fixture.ConnectAsync(alice, silo: 0);
        Assert.True((await fixture.Grains.GetUserGrain(new UserId(alice)).GetPresenceAsync()).Online);
        Assert.True(await IsActiveAsync(fixture.Grains.GetUserGrain(new UserId(alice))));
    }

    private async Task<bool> IsActiveAsync(IAddressable grain)
    {
        var id = grain.GetGrainId();
        var statistics = await fixture.Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return statistics.Any(s => s.GrainId == id);
    }
}
