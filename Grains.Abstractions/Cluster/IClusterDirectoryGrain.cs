using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Switchboard.Cluster;

/// <summary>
/// What the gateway asks to learn where to send HTTP and WebSocket traffic: the silos that cluster
/// membership holds active, each with the HTTP address it published. A stateless worker, so the question is
/// answered by whichever silo the asking client is connected to, from that silo's own membership view.
/// </summary>
[Alias("sb.IClusterDirectoryGrain")]
public interface IClusterDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>The active silos that published an HTTP endpoint.</summary>
    [ReadOnly, Alias("GetHttpEndpoints")]
    Task<ImmutableArray<SiloHttpEndpoint>> GetHttpEndpointsAsync();
}

/// <summary>One active silo's HTTP endpoint.</summary>
/// <param name="Silo">The silo's Orleans address (unique per process start).</param>
/// <param name="Name">The silo's name (as in <c>welcome.node</c>).</param>
/// <param name="Url">Where the gateway reaches the silo's HTTP and WebSocket surface, e.g. <c>http://10.0.0.11:5000</c>.</param>
[GenerateSerializer, Immutable, Alias("sb.SiloHttpEndpoint")]
public sealed record SiloHttpEndpoint(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] string Name,
    [property: Id(2)] string Url);

/// <summary>The silo metadata key under which a silo publishes its HTTP endpoint.</summary>
public static class SiloMetadataKeys
{
    /// <summary>The silo's HTTP base URL for the gateway.</summary>
    public const string HttpEndpoint = "switchboard.http";
}
