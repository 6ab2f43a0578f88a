namespace Switchboard.Connections;

/// <summary>
/// How grains reach one silo's sockets: the silo's address (so a grain can drop it as soon as cluster
/// membership declares the silo dead) and its sink.
/// </summary>
[GenerateSerializer, Immutable, Alias("sb.SiloRoute")]
public sealed record SiloRoute(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] IConnectionSink Sink);
