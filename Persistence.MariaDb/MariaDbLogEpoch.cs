using Switchboard.Grains.Conversations;

namespace Switchboard.Persistence.MariaDb;

/// <summary>The epoch stored in the database (sb_log_epoch), read by <see cref="MariaDbStartupCheck"/> before anything starts.</summary>
public sealed class MariaDbLogEpoch : ILogEpoch
{
    private string? _epoch;

    public string Epoch => _epoch ?? throw new InvalidOperationException("The log's epoch is read at start, before sockets are accepted.");

    internal void Set(string epoch) => _epoch = epoch;
}
