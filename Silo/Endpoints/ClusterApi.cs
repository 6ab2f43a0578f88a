using Switchboard.Cluster;
using Switchboard.Silo.Auth;

namespace Switchboard.Silo.Endpoints;

/// <summary><c>GET /api/cluster/silos</c> (admin): the active silos and the HTTP endpoints they publish, as the gateway sees them.</summary>
public static class ClusterApi
{
    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/cluster/silos", async (IGrainFactory grains) =>
        {
            var silos = await grains.GetGrain<IClusterDirectoryGrain>(0).GetHttpEndpointsAsync();
            return TypedResults.Ok(silos.Select(s => new SiloReply(s.Name, s.Url, s.Silo.ToParsableString())).OrderBy(s => s.Name, StringComparer.Ordinal).ToArray());
        }).RequireAuthorization(AuthenticationSetup.AdminPolicy).WithProblemDetails();
        return endpoints;
    }

    public sealed record SiloReply(string Name, string Url, string Silo);
}
