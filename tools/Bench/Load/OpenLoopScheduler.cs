namespace Switchboard.Bench.Load;

/// <summary>Picks message <paramref name="k"/> of a window: its sender, its target (client or group index) and its <c>to</c>.</summary>
internal delegate void NextMessage(long k, out BenchClient sender, out int target, out byte[] to);

/// <summary>The measured window as scheduled (Unix µs), with the CPU snapshots taken at its edges.</summary>
internal sealed record ScheduleResult(long WindowStartMicros, long WindowEndMicros, CpuSnapshot Start, CpuSnapshot End);

/// <summary>
/// Open loop: one dedicated thread sends message k at start + k / rate whatever the acks do (not one timer per
/// client). It sleeps until the next message is due (a millisecond at least) and sends everything that has come
/// due, so a late wake-up sends a short burst instead of dropping messages; the lag is recorded per message.
/// </summary>
internal static class OpenLoopScheduler
{
    public static Task<ScheduleResult> RunAsync(
        MessageBook book, double rate, long warmupCount, long measuredCount, NextMessage next, ProcessMonitor monitor, Action onMeasure)
    {
        var result = new TaskCompletionSource<ScheduleResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                result.SetResult(Run(book, rate, warmupCount, measuredCount, next, monitor, onMeasure));
            }
            catch (Exception exception)
            {
                result.SetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = "bench-scheduler",
        };
        thread.Start();
        return result.Task;
    }

    private static ScheduleResult Run(MessageBook book, double rate, long warmupCount, long measuredCount, NextMessage next, ProcessMonitor monitor, Action onMeasure)
    {
        var total = warmupCount + measuredCount;
        var period = 1_000_000.0 / rate;
        var start = BenchClock.NowMicros();
        CpuSnapshot? measureStart = null;
        long k = 0;
        while (k < total)
        {
            var elapsed = BenchClock.NowMicros() - start;
            var due = Math.Min(total, (long)(elapsed / period) + 1);
            for (; k < due; k++)
            {
                if (k == warmupCount)
                {
                    // The measured window opens when its first message is due.
                    measureStart = monitor.Sample();
                    book.BeginMeasure();
                    onMeasure();
                }

                next(k, out var sender, out var target, out var to);
                var n = book.Allocate(sender.Index, target, start + (long)(k * period));
                if (n >= 0)
                {
                    sender.Send(book, n, to);
                }
            }

            if (k < total)
            {
                // Until the next message is due (at least the ~1 ms the OS timer gives, at most 50 ms).
                var wait = (start + (long)(k * period) - BenchClock.NowMicros()) / 1000;
                Thread.Sleep((int)Math.Clamp(wait, 1, 50));
            }
        }

        // The window lasts until the last message's period is over.
        var end = start + (long)(total * period);
        while (BenchClock.NowMicros() < end)
        {
            Thread.Sleep(1);
        }

        var measureEnd = monitor.Sample();
        return new ScheduleResult(start + (long)(warmupCount * period), end, measureStart!, measureEnd);
    }
}
