using Microsoft.Extensions.Options;
using Switchboard.Gateway.Hosting;

namespace Switchboard.Gateway.Discovery;

/// <summary>The fixed list <c>Switchboard:Gateway:Silos</c>: for a gateway in front of the embedded single silo (no Redis).</summary>
public sealed class StaticSiloSource(IOptions<GatewayHostOptions> options) : ISiloSource
{
    public Task<IReadOnlyList<SiloDestination>> GetSilosAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<SiloDestination> silos = [.. options.Value.Silos.Select(url => url.TrimEnd('/')).Distinct(StringComparer.OrdinalIgnoreCase).Select(url => new SiloDestination(url, url, url))];
        return Task.FromResult(silos);
    }
}
