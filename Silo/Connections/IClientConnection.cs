using Switchboard.Identity;

namespace Switchboard.Silo.Connections;

/// <summary>A client socket as the silo's routing sees it: somewhere to put frames, never to wait on.</summary>
public interface IClientConnection
{
    ConnectionId Id { get; }

    UserId User { get; }

    /// <summary>When the token the connection holds now was issued (its <c>iat</c>); null when it had none.</summary>
    DateTimeOffset? TokenIssuedAt { get; }

    /// <summary>Queues a complete UTF-8 frame without waiting. False when the connection is closing or too slow (it then closes itself).</summary>
    bool TrySend(ReadOnlyMemory<byte> frame);

    /// <summary>Closes the connection for an administrator (close code 4003): its client does not reconnect on its own.</summary>
    void Disconnect(string reason);
}
