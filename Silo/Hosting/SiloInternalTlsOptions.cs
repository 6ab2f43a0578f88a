using Switchboard.Cluster.Security;

namespace Switchboard.Silo.Hosting;

/// <summary>This silo's Orleans TLS (section <c>Switchboard:Silo:InternalTls</c>): silo to silo and the gateway's client to this silo.</summary>
public sealed class SiloInternalTlsOptions() : InternalTlsOptions(SectionName)
{
    public const string SectionName = "Switchboard:Silo:InternalTls";
}
