using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// Sums one counter of one host (matched by the host's <see cref="IMeterFactory"/>), as the silo records it;
/// with <c>tag</c>, only the measurements carrying that tag value.
/// </summary>
public sealed class MeterCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public MeterCounter(IServiceProvider hostServices, string meterName, string instrumentName, (string Key, string Value)? tag = null)
    {
        var factory = hostServices.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName && instrument.Name == instrumentName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tag is { } wanted && !HasTag(tags, wanted.Key, wanted.Value))
            {
                return;
            }

            Interlocked.Add(ref _total, value);
        });
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();

    private static bool HasTag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key, string value)
    {
        foreach (var pair in tags)
        {
            if (pair.Key == key && Equals(pair.Value, value))
            {
                return true;
            }
        }

        return false;
    }
}
