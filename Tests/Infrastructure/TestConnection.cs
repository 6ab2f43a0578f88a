using System.Collections.Concurrent;
using System.Text.Json;
using Switchboard.Identity;
using Switchboard.Silo.Connections;

namespace Switchboard.Tests.Infrastructure;

/// <summary>A socket stand-in registered with a silo's routing: records the frames it is given.</summary>
public sealed class TestConnection(string user) : IClientConnection
{
    private readonly ConcurrentQueue<JsonElement> _frames = new();

    public ConnectionId Id { get; } = ConnectionId.New();

    public UserId User { get; } = new(user);

    public IReadOnlyCollection<JsonElement> Frames => _frames;

    public DateTimeOffset? TokenIssuedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Why an administrator disconnected it; null while it is connected.</summary>
    public string? DisconnectReason { get; private set; }

    public void Disconnect(string reason) => DisconnectReason ??= reason;

    public bool TrySend(ReadOnlyMemory<byte> frame)
    {
        using var document = JsonDocument.Parse(frame);
        _frames.Enqueue(document.RootElement.Clone());
        return true;
    }

    public IReadOnlyList<JsonElement> Messages(string conversation) =>
        _frames.Where(f => f.Type() == "message" && f.GetProperty("conversation").GetString() == conversation)
            .OrderBy(f => f.GetProperty("seq").GetInt64())
            .ToList();

    public async Task<JsonElement> WaitForMessageAsync(string conversation, long seq)
    {
        JsonElement found = default;
        await Wait.UntilAsync(() =>
        {
            found = Messages(conversation).FirstOrDefault(m => m.GetProperty("seq").GetInt64() == seq);
            return found.ValueKind != JsonValueKind.Undefined;
        }, $"{User} receives {conversation}#{seq}");
        return found;
    }
}
