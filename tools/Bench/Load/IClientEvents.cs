namespace Switchboard.Bench.Load;

/// <summary>
/// What a <see cref="BenchClient"/>'s receive loop reports to: the load engine, or the failover drill. The run tag
/// starts every request id the client writes.
/// </summary>
internal interface IClientEvents
{
    byte[] RunTagUtf8 { get; }

    /// <summary>Receive loops: one complete frame, stamped at <paramref name="nowMicros"/>.</summary>
    void OnFrame(BenchClient client, ReadOnlySpan<byte> utf8, long nowMicros);

    /// <summary>The socket closed (a close frame: its status; an abort: null and the exception's message).</summary>
    void OnClosed(BenchClient client, int? status, string? reason);
}
