using System.Net.WebSockets;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>A <c>resume</c> ack's flags.</summary>
internal readonly record struct ResumeReply(bool Recovered, bool More);

/// <summary>
/// One drill client: a <see cref="BenchClient"/> (its socket and receive loop) through every reconnect, one writer at
/// a time on the current socket, and what the drill tracks about its connections. The mutable state is read and
/// written under the drill's lock.
/// </summary>
internal sealed class DrillClient(BenchClient bench)
{
    private readonly SemaphoreSlim _writer = new(1, 1);

    public BenchClient Bench { get; } = bench;

    public int Index => Bench.Index;

    public string User => Bench.User;

    public string? Token { get; set; }

    /// <summary>Counts welcomes: 1 for the first connection, +1 per reconnect; 0 before the first.</summary>
    public int Connection { get; set; }

    public bool Connected { get; set; }

    /// <summary>The node of the current (or last) welcome.</summary>
    public string? Node { get; set; }

    public string? NodeAtKill { get; set; }

    /// <summary>The current connection has sent a <c>resume</c>: a repeated seq on it may be replay overlapping live delivery.</summary>
    public bool ResumedOnConnection { get; set; }

    /// <summary>How frames arrive right now: live, or inside the reply to a resume of that kind.</summary>
    public Arrival Arrival { get; set; }

    /// <summary>Resumes started or queued; the drill starts a gap resume only when none is.</summary>
    public int ResumesPending { get; set; }

    /// <summary>One resume at a time per client.</summary>
    public SemaphoreSlim ResumeGate { get; } = new(1, 1);

    public byte[]? ResumeId { get; set; }

    public TaskCompletionSource<ResumeReply>? ResumeReply { get; set; }

    /// <summary>From a drop until the reconnect (and its resume) is over.</summary>
    public bool Reconnecting { get; set; }

    /// <summary>When the socket first dropped; 0 if it never did.</summary>
    public long DroppedMicros { get; set; }

    /// <summary>The first welcome after that drop; 0 until then.</summary>
    public long BackMicros { get; set; }

    /// <summary>Every drop of this client's socket and the welcome that ended it (0 while it is still out).</summary>
    public List<(long DroppedMicros, long BackMicros)> Outages { get; } = [];

    public int Drops { get; set; }

    public int Reconnects { get; set; }

    /// <summary>Connect attempts that failed (refused upgrades, timeouts), the first connection's included.</summary>
    public int FailedAttempts { get; set; }

    /// <summary>Writes one text frame on the current socket; false when there is none or the write failed (the receive loop reports the close).</summary>
    public async Task<bool> WriteAsync(ReadOnlyMemory<byte> frame)
    {
        await _writer.WaitAsync();
        try
        {
            var socket = Bench.Socket;
            if (socket is not { State: WebSocketState.Open })
            {
                return false;
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            return true;
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
        finally
        {
            _writer.Release();
        }
    }
}
