using Microsoft.Extensions.Logging;
using Orleans.Storage;
using Switchboard.Groups;
using Switchboard.Messaging;

namespace Switchboard.Grains.Groups;

/// <summary>
/// A group's members and its membership outbox as stored: in the group's own state while the group is small, then
/// spread over bucket states by a hash of the user id, so that one change rewrites one bucket of a few hundred members
/// rather than the whole group (a class of thousands joining costs linear, not quadratic, storage writes).
/// Callers serialize every call that changes or stores (the group grain's state lock).
/// </summary>
internal sealed class GroupMembership(
    IPersistentState<GroupState> group,
    IGrainStorage storage,
    GrainId grainId,
    Func<Task> writeGroup,
    Action deactivate,
    ILogger logger)
{
    /// <summary>Members kept in the group's own state before they are spread over buckets.</summary>
    internal const int InlineMost = 256;

    /// <summary>Average members per bucket above which the buckets double.</summary>
    internal const int BucketMost = 256;

    // Buckets read or written at once: bounded, so that a large group's activation does not drain the storage pool.
    private const int ConcurrentBucketCalls = 8;

    private GrainState<GroupMemberBucket>[] _buckets = [];
    private readonly HashSet<int> _outboxChanged = [];

    /// <summary>The number of members.</summary>
    public int Count { get; private set; }

    private GroupState State => group.State;

    private bool Spread => State.Buckets > 0;

    private string GroupKey => grainId.Key.ToString()!;

    /// <summary>Every member with its role, in no particular order.</summary>
    public IEnumerable<KeyValuePair<string, GroupRole>> All => Spread ? _buckets.SelectMany(b => b.State!.Members) : State.Members;

    /// <summary>Whether some user grain may not know its membership as it stands here yet.</summary>
    public bool AnyUnnotified => Spread ? _buckets.Any(b => b.State!.Unnotified.Count > 0) : State.Unnotified.Count > 0;

    /// <summary>A copy of the outbox: the users whose grains are still to be told.</summary>
    public string[] Unnotified() => Spread ? [.. _buckets.SelectMany(b => b.State!.Unnotified)] : [.. State.Unnotified];

    /// <summary>Reads the buckets the group's state points at (none while the group is small).</summary>
    public async Task LoadAsync()
    {
        var buckets = new GrainState<GroupMemberBucket>[State.Buckets];
        await ForEachBucketAsync(buckets.Length, async index =>
        {
            buckets[index] = await ReadBucketAsync(BucketName(State.Layout, index));
        });
        _buckets = buckets;
        Recount();
    }

    public bool TryGetRole(string user, out GroupRole role) => MembersOf(user).TryGetValue(user, out role);

    public bool Contains(string user) => MembersOf(user).ContainsKey(user);

    public int OwnerCount() => All.Count(m => m.Value == GroupRole.Owner);

    /// <summary>
    /// Sets <paramref name="user"/>'s role (or removes them, for null), puts them in the outbox and stores both: the
    /// group's state while small, else their bucket; a group outgrowing its layout is spread anew. On failure nothing
    /// changed (as far as this activation knows) and the caller gets <c>unavailable</c>.
    /// </summary>
    public async Task ChangeAsync(string user, GroupRole? role)
    {
        var adds = role is not null && !Contains(user);
        if (!Spread && !(adds && Count >= InlineMost))
        {
            Apply(State.Members, State.Unnotified, user, role);
            try
            {
                await writeGroup();
            }
            finally
            {
                // A failed write put back what storage holds (or deactivates): count what is there now.
                Recount();
            }

            return;
        }

        if (adds && Count >= BucketMost * State.Buckets)
        {
            await RespreadAsync(user, role!.Value);
            return;
        }

        var index = BucketOf(user, State.Buckets);
        var bucket = _buckets[index];
        Apply(bucket.State!.Members, bucket.State!.Unnotified, user, role);
        Recount();
        await WriteBucketAsync(index);
        _outboxChanged.Remove(index);
    }

    /// <summary>Puts <paramref name="user"/> in the outbox; false when already there (stored or not).</summary>
    public bool AddToOutbox(string user)
    {
        var added = OutboxOf(user).Add(user);
        if (added && Spread)
        {
            _outboxChanged.Add(BucketOf(user, State.Buckets));
        }

        return added;
    }

    /// <summary>Takes <paramref name="user"/> out of the outbox in memory; <see cref="StoreOutboxAsync"/> stores it.</summary>
    public void MarkNotified(string user)
    {
        if (OutboxOf(user).Remove(user) && Spread)
        {
            _outboxChanged.Add(BucketOf(user, State.Buckets));
        }
    }

    /// <summary>Stores the outbox where it changed since it was last stored.</summary>
    public async Task StoreOutboxAsync()
    {
        if (!Spread)
        {
            await writeGroup();
            return;
        }

        foreach (var index in _outboxChanged.ToArray())
        {
            await WriteBucketAsync(index);
            _outboxChanged.Remove(index);
        }
    }

    /// <summary>
    /// Writes every member, with the change, into a new layout of twice the buckets (or the first), then points the
    /// group's state at it: until that last write the old layout stays the truth, so a failure anywhere loses nothing.
    /// </summary>
    private async Task RespreadAsync(string user, GroupRole role)
    {
        var members = new Dictionary<string, GroupRole>(All, StringComparer.Ordinal);
        var outbox = new HashSet<string>(Unnotified(), StringComparer.Ordinal);
        Apply(members, outbox, user, role);

        var count = 1;
        while (members.Count > BucketMost * count)
        {
            count *= 2;
        }

        var layout = State.Layout + 1;
        var fresh = new GrainState<GroupMemberBucket>[count];
        for (var index = 0; index < count; index++)
        {
            fresh[index] = new GrainState<GroupMemberBucket>(new GroupMemberBucket());
        }

        foreach (var (member, memberRole) in members)
        {
            fresh[BucketOf(member, count)].State!.Members[member] = memberRole;
        }

        foreach (var member in outbox)
        {
            fresh[BucketOf(member, count)].State!.Unnotified.Add(member);
        }

        var old = _buckets;
        var oldLayout = State.Layout;
        try
        {
            await ForEachBucketAsync(count, async index =>
            {
                // An earlier respread that failed may have left this layout's states behind: overwrite them at their version.
                var name = BucketName(layout, index);
                var left = await ReadBucketAsync(name);
                fresh[index].ETag = left.ETag;
                fresh[index].RecordExists = left.RecordExists;
                await storage.WriteStateAsync(name, grainId, fresh[index]);
            });

            State.Buckets = count;
            State.Layout = layout;
            State.Members = new(StringComparer.Ordinal);
            State.Unnotified = new(StringComparer.Ordinal);
            await writeGroup();
        }
        catch (Exception exception)
        {
            // Storage holds the old layout, or (a write that failed late) the new one: only a fresh activation knows which.
            if (exception is not SwitchboardException)
            {
                GroupLog.StateWriteFailed(logger, GroupKey, exception);
            }

            deactivate();
            throw SwitchboardException.Unavailable("Group storage is unavailable; retry.", new Exception(exception.Message));
        }

        _buckets = fresh;
        _outboxChanged.Clear();
        Recount();
        GroupLog.MembersSpread(logger, GroupKey, Count, count);

        // The old layout is unreachable now; clearing it only saves space.
        await ForEachBucketAsync(old.Length, async index =>
        {
            try
            {
                await storage.ClearStateAsync(BucketName(oldLayout, index), grainId, old[index]);
            }
            catch (Exception exception)
            {
                GroupLog.OldBucketNotCleared(logger, GroupKey, exception);
            }
        });
    }

    private async Task WriteBucketAsync(int index)
    {
        var name = BucketName(State.Layout, index);
        try
        {
            await storage.WriteStateAsync(name, grainId, _buckets[index]);
        }
        catch (Exception exception)
        {
            GroupLog.StateWriteFailed(logger, GroupKey, exception);

            // The change lives only in memory now: put back what storage holds, or start afresh next call.
            try
            {
                _buckets[index] = await ReadBucketAsync(name);
                _outboxChanged.Remove(index);
            }
            catch (Exception)
            {
                deactivate();
            }
            finally
            {
                Recount();
            }

            throw SwitchboardException.Unavailable("Group storage is unavailable; retry.", new Exception(exception.Message));
        }
    }

    private async Task<GrainState<GroupMemberBucket>> ReadBucketAsync(string name)
    {
        var bucket = new GrainState<GroupMemberBucket>(new GroupMemberBucket());
        await storage.ReadStateAsync(name, grainId, bucket);
        bucket.State ??= new GroupMemberBucket();
        return bucket;
    }

    private static async Task ForEachBucketAsync(int count, Func<int, Task> action)
    {
        for (var first = 0; first < count; first += ConcurrentBucketCalls)
        {
            var last = Math.Min(count, first + ConcurrentBucketCalls);
            await Task.WhenAll(Enumerable.Range(first, last - first).Select(action));
        }
    }

    private Dictionary<string, GroupRole> MembersOf(string user) =>
        Spread ? _buckets[BucketOf(user, State.Buckets)].State!.Members : State.Members;

    private HashSet<string> OutboxOf(string user) =>
        Spread ? _buckets[BucketOf(user, State.Buckets)].State!.Unnotified : State.Unnotified;

    private void Recount() => Count = Spread ? _buckets.Sum(b => b.State!.Members.Count) : State.Members.Count;

    private static void Apply(Dictionary<string, GroupRole> members, HashSet<string> outbox, string user, GroupRole? role)
    {
        if (role is { } value)
        {
            members[user] = value;
        }
        else
        {
            members.Remove(user);
        }

        outbox.Add(user);
    }

    internal static string BucketName(int layout, int index) => $"group-members-{layout}-{index}";

    /// <summary>
    /// FNV-1a over the id's UTF-16 code units, masked to a power of two. Stored layouts depend on it: never change it.
    /// </summary>
    internal static int BucketOf(string user, int buckets)
    {
        var hash = 2166136261u;
        foreach (var unit in user)
        {
            hash = (hash ^ unit) * 16777619u;
        }

        return (int)(hash & (uint)(buckets - 1));
    }
}
