using System.Diagnostics.Metrics;
using Switchboard.Grains.Conversations;

namespace Switchboard.Silo.Diagnostics;

/// <summary>The silo's instruments, on one meter. No user or group ids as dimensions.</summary>
public sealed class SwitchboardMetrics
{
    public const string MeterName = "Switchboard.Silo";

    private readonly Counter<long> _framesIn;
    private readonly Counter<long> _liveFrames;
    private readonly Counter<long> _framesOut;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _queueDrops;
    private readonly Counter<long> _errors;
    private readonly Histogram<double> _sendDuration;
    private readonly Counter<long> _sinkCalls;
    private readonly Counter<long> _socketsOpened;

    public SwitchboardMetrics(IMeterFactory meterFactory, Connections.ConnectionRegistry registry)
    {
        var meter = meterFactory.Create(MeterName);
        _framesIn = meter.CreateCounter<long>("switchboard.frames.received", "{frame}", "Client frames received");
        _framesOut = meter.CreateCounter<long>("switchboard.frames.sent", "{frame}", "Frames written to sockets");
        _delivered = meter.CreateCounter<long>("switchboard.messages.delivered", "{message}", "Message frames queued to local sockets");
        _queueDrops = meter.CreateCounter<long>("switchboard.queue.overflows", "{connection}", "Connections closed because their outbound queue was full");
        _errors = meter.CreateCounter<long>("switchboard.errors", "{error}", "Error frames and problem details sent, by code");
        _sendDuration = meter.CreateHistogram("switchboard.send.duration", "s", "Time from a send frame to its ack",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets.Seconds });
        _sinkCalls = meter.CreateCounter<long>("switchboard.sink.calls", "{call}", "Calls from grains into this silo's sink, by kind (user, group)");
        _socketsOpened = meter.CreateCounter<long>("switchboard.sockets.opened", "{connection}", "Sockets accepted, by the layer that took the upgrade (connection, http)");
        _liveFrames = meter.CreateCounter<long>("switchboard.live.delivered", "{frame}", "Live read and typing frames queued to local sockets, by kind (read, typing)");
        meter.CreateObservableGauge("switchboard.connections", () => registry.ConnectionCount, "{connection}", "Open sockets on this silo");
        meter.CreateObservableGauge("switchboard.users", () => registry.UserCount, "{user}", "Users with sockets on this silo");
    }

    public void FrameReceived() => _framesIn.Add(1);

    public void FrameSent() => _framesOut.Add(1);

    public void MessageDelivered() => _delivered.Add(1);

    public void QueueOverflow() => _queueDrops.Add(1);

    public void Error(string code) => _errors.Add(1, new KeyValuePair<string, object?>("code", code));

    public void SinkCalled(string kind) => _sinkCalls.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void SocketOpened(string layer) => _socketsOpened.Add(1, new KeyValuePair<string, object?>("layer", layer));

    public void SendCompleted(TimeSpan elapsed) => _sendDuration.Record(elapsed.TotalSeconds);

    public void LiveFrameDelivered(string kind) => _liveFrames.Add(1, new KeyValuePair<string, object?>("kind", kind));
}
