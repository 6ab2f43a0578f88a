using Switchboard.Cluster.Security;

namespace Switchboard.Gateway.Hosting;

/// <summary>The TLS of the gateway's Orleans client to the silos (section <c>Switchboard:Gateway:InternalTls</c>); the same settings as the silos'.</summary>
public sealed class GatewayInternalTlsOptions() : InternalTlsOptions(SectionName)
{
    public const string SectionName = "Switchboard:Gateway:InternalTls";
}
