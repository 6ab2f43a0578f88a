namespace Switchboard.Connections;

/// <summary>
/// The sink of the silo a grain is running on, as a plain service. A grain whose recipient's sockets are on its
/// own silo calls <see cref="Sink"/> directly: the frames are written in the grain's turn instead of in an observer
/// call the runtime would queue and run on another thread. Absent where no sockets are hosted.
/// </summary>
public interface ILocalConnectionSink
{
    /// <summary>The silo whose sockets this sink writes to.</summary>
    SiloAddress Silo { get; }

    /// <summary>The sink itself (not an observer reference).</summary>
    IConnectionSink Sink { get; }
}
