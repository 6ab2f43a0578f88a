namespace Switchboard.Silo.Hosting;

/// <summary>This silo's name, as clients see it in <c>welcome</c>.</summary>
public sealed class SiloIdentity(ILocalSiloDetails details)
{
    public string Name => details.Name;
}
