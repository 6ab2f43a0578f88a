using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Switchboard.Silo.Diagnostics;

namespace Switchboard.Silo.Hosting;

/// <summary>One part of the warm-up: something a silo does once before its first user so that user does not wait for it.</summary>
public interface IWarmUpStep
{
    /// <summary>A short name for logs (<c>database</c>, <c>grains</c>, ...).</summary>
    string Name { get; }

    /// <summary>Runs the step; it must leave nothing any user can see.</summary>
    Task RunAsync(WarmUpOptions options, CancellationToken cancellationToken);
}

/// <summary>
/// Runs the <see cref="IWarmUpStep"/>s once the silo is active and Kestrel listens, and holds <c>/health/ready</c>
/// back until they are done, so load balancers and <c>cluster.sh</c> send no user to a silo that would make them wait
/// for the JIT, the database pools or first activations. Bounded by <see cref="WarmUpOptions.Timeout"/>: a step that
/// fails is logged and skipped, and a warm-up past the bound gives up and lets the silo report ready anyway, so a slow
/// database can delay a silo's readiness but never keep it out of service.
/// </summary>
public sealed class SiloWarmUp(
    IOptions<WarmUpOptions> options,
    IEnumerable<IWarmUpStep> steps,
    IHostApplicationLifetime lifetime,
    IMeterFactory meterFactory,
    ILogger<SiloWarmUp> logger) : BackgroundService
{
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Histogram<double> _duration = meterFactory.Create(SwitchboardMetrics.MeterName).CreateHistogram<double>(
        "switchboard.warmup.duration", "s", "How long the warm-up held readiness back, by outcome (done, gave_up)");

    /// <summary>True once the warm-up is done, gave up, or is off: from then on readiness follows the silo's status.</summary>
    public bool IsFinished => _finished.Task.IsCompleted;

    /// <summary>Completes when <see cref="IsFinished"/> turns true.</summary>
    public Task Finished => _finished.Task;

    /// <summary>Why the warm-up did not finish every step (null when it did): reported with readiness.</summary>
    public string? Incomplete { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var settings = options.Value;
            if (!settings.Enabled)
            {
                WarmUpLog.Off(logger);
                return;
            }

            await WhenStartedAsync(stoppingToken);
            await RunStepsAsync(settings, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping before the warm-up ended: nothing to report, the silo is going away.
        }
        finally
        {
            _finished.TrySetResult();
        }
    }

    private async Task RunStepsAsync(WarmUpOptions settings, CancellationToken stoppingToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        bound.CancelAfter(settings.Timeout);
        var done = new List<string>();
        foreach (var step in steps)
        {
            var stepStarted = Stopwatch.GetTimestamp();
            try
            {
                // WaitAsync bounds a step that does not watch its token (a connect stuck in the kernel, say).
                await step.RunAsync(settings, bound.Token).WaitAsync(bound.Token);
                done.Add($"{step.Name} {Stopwatch.GetElapsedTime(stepStarted).TotalMilliseconds:F0} ms");
            }
            catch (OperationCanceledException) when (bound.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
            {
                var elapsed = Stopwatch.GetElapsedTime(started);
                Incomplete = $"gave up after {elapsed.TotalSeconds:F1} s in step {step.Name}";
                WarmUpLog.GaveUp(logger, (long)elapsed.TotalMilliseconds, step.Name);
                _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("outcome", "gave_up"));
                return;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                Incomplete = $"step {step.Name} failed: {exception.GetType().Name}";
                WarmUpLog.StepFailed(logger, step.Name, (long)Stopwatch.GetElapsedTime(stepStarted).TotalMilliseconds, exception);
            }
        }

        var total = Stopwatch.GetElapsedTime(started);
        WarmUpLog.Done(logger, (long)total.TotalMilliseconds, done.Count == 0 ? "no steps" : string.Join(", ", done));
        _duration.Record(total.TotalSeconds, new KeyValuePair<string, object?>("outcome", "done"));
    }

    // Hosted services start in order and the silo's comes first, but the grains need Kestrel and every service up.
    private async Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }
}
