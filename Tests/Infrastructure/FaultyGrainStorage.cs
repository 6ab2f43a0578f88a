using System.Collections.Concurrent;
using Orleans.Storage;
using Switchboard.Grains.Groups;

namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// Grain storage that fails the writes a test plans (by state name and grain key), and otherwise passes every call to
/// the storage it wraps. Plans are per process and keyed by fresh ids, so tests sharing a cluster do not meet.
/// </summary>
public sealed class FaultyGrainStorage(IGrainStorage inner) : IGrainStorage
{
    private static readonly ConcurrentDictionary<(string State, string Key), int> s_failures = new();

    /// <summary>The next <paramref name="count"/> writes of state <paramref name="stateName"/> of the grain keyed <paramref name="key"/> fail.</summary>
    public static void FailWrites(string stateName, string key, int count = 1) => s_failures[(stateName, key)] = count;

    /// <summary>Writes planned to fail that have not been attempted yet.</summary>
    public static int PendingFailures(string stateName, string key) => s_failures.TryGetValue((stateName, key), out var left) ? left : 0;

    /// <summary>Every write attempted of the grain keyed <paramref name="key"/>: its state name, and how many group members it held.</summary>
    public static IReadOnlyList<(string State, int Members)> Writes(string key) =>
        s_writes.TryGetValue(key, out var writes) ? [.. writes] : [];

    private static readonly ConcurrentDictionary<string, ConcurrentQueue<(string State, int Members)>> s_writes = new();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (stateName, grainId.Key.ToString()!);
        var members = grainState.State switch
        {
            GroupState group => group.Members.Count,
            GroupMemberBucket bucket => bucket.Members.Count,
            _ => 0,
        };
        s_writes.GetOrAdd(key.Item2, _ => new()).Enqueue((stateName, members));
        while (s_failures.TryGetValue(key, out var left) && left > 0)
        {
            if (s_failures.TryUpdate(key, left - 1, left))
            {
                return Task.FromException(new IOException($"Injected write failure of {stateName} for {key.Item2}."));
            }
        }

        return inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
}
