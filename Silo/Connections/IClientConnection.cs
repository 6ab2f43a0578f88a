using Switchboard.Identity;

namespace Switchboard.Silo.Connections;

/// <summary>A client socket as the silo's routing sees it: somewhere to put frames, never to wait on.</summary>
public interface IClientConnection
{
    ConnectionId Id { get; }

    UserId User { get; }

    /// <summary>Queues a complete UTF-8 frame without waiting. False when the connection is closing or too slow (it then closes itself).</summary>
    bool TrySend(ReadOnlyMemory<byte> frame);
}
