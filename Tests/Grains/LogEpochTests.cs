using Microsoft.Extensions.DependencyInjection;
using Switchboard.Grains.Conversations;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>Silos sharing an in-memory log report its one epoch; another log has another.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class LogEpochTests(ClusterFixture fixture)
{
    [Fact]
    public void Every_silo_sharing_a_log_reports_its_epoch_and_a_new_log_has_a_new_one()
    {
        var first = fixture.SiloServices(0).GetRequiredService<ILogEpoch>().Epoch;
        var second = fixture.SiloServices(1).GetRequiredService<ILogEpoch>().Epoch;

        Assert.Equal(ClusterFixture.Log.Epoch, first);
        Assert.Equal(first, second);
        Assert.NotEqual(first, new InMemoryMessageLog().Epoch);
    }
}
