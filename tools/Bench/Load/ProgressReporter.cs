using System.Diagnostics;

namespace Switchboard.Bench.Load;

/// <summary>One line a second while a workload runs: elapsed, phase, connected, sent, acked, delivered, in flight.</summary>
internal sealed class ProgressReporter : IAsyncDisposable
{
    private readonly TrafficCounters _counters;
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private readonly Task _loop;
    private volatile string _phase = "starting";

    public ProgressReporter(TrafficCounters counters)
    {
        _counters = counters;
        _loop = RunAsync();
    }

    public string Phase
    {
        get => _phase;
        set => _phase = value;
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                Print();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private void Print()
    {
        var sent = Interlocked.Read(ref _counters.Sent);
        var acked = Interlocked.Read(ref _counters.Acked);
        var failed = Interlocked.Read(ref _counters.Failed);
        Console.WriteLine(
            $"[{_elapsed.Elapsed.TotalSeconds,6:F1}s] {_phase,-22} connected {Interlocked.Read(ref _counters.Connected),6}  sent {sent,8}  acked {acked,8}  " +
            $"delivered {Interlocked.Read(ref _counters.Delivered),9}  in flight {sent - acked - failed,6}{(failed > 0 ? $"  failed {failed}" : string.Empty)}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
