using System.Collections.Immutable;
using Orleans.Concurrency;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Switchboard.Cluster;

namespace Switchboard.Grains.Cluster;

/// <summary>Answers from the local silo's membership view and the metadata silos publish at start.</summary>
[StatelessWorker]
internal sealed class ClusterDirectoryGrain(ISiloStatusOracle membership, ISiloMetadataCache metadata) : Grain, IClusterDirectoryGrain
{
    public Task<ImmutableArray<SiloHttpEndpoint>> GetHttpEndpointsAsync()
    {
        var endpoints = ImmutableArray.CreateBuilder<SiloHttpEndpoint>();
        foreach (var (silo, status) in membership.GetApproximateSiloStatuses(onlyActive: true))
        {
            if (status != SiloStatus.Active)
            {
                continue;
            }

            if (metadata.GetSiloMetadata(silo).Metadata.TryGetValue(SiloMetadataKeys.HttpEndpoint, out var url)
                && membership.TryGetSiloName(silo, out var name))
            {
                endpoints.Add(new SiloHttpEndpoint(silo, name, url));
            }
        }

        return Task.FromResult(endpoints.ToImmutable());
    }
}
