namespace Switchboard.Identity;

/// <summary>One WebSocket connection, unique in the cluster (the server makes it).</summary>
[GenerateSerializer, Immutable, Alias("sb.ConnectionId")]
public readonly record struct ConnectionId
{
    /// <summary>Wraps a server-made id.</summary>
    public ConnectionId(string value) => Value = value;

    /// <summary>The id as sent in the <c>welcome</c> frame.</summary>
    [Id(0)]
    public string Value { get; }

    /// <summary>Makes a new id: 16 random bytes in base32-like hex, short and URL-safe.</summary>
    public static ConnectionId New() => new(Guid.NewGuid().ToString("N"));

    /// <inheritdoc />
    public override string ToString() => Value;
}
