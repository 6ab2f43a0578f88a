using Switchboard.Connections;
using Switchboard.Groups;

namespace Switchboard.Grains.Groups;

/// <summary>The persisted state of a group: small and changed only by membership and policy, never per message.</summary>
[GenerateSerializer, Alias("sb.GroupState")]
public sealed class GroupState
{
    [Id(0)]
    public bool Exists { get; set; }

    [Id(1)]
    public GroupPolicy Policy { get; set; }

    /// <summary>Members by user id, with their role, while the group is small (<see cref="Buckets"/> is 0).</summary>
    [Id(2)]
    public Dictionary<string, GroupRole> Members { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The silos subscribed to the group's messages, so that a group grain reactivated elsewhere (its silo died)
    /// goes on delivering to the survivors at once instead of waiting for them to re-announce. Written when a
    /// silo subscribes or unsubscribes, never per message or per renewal.
    /// </summary>
    [Id(3)]
    public List<SiloRoute> Subscribers { get; set; } = [];

    /// <summary>
    /// Users whose grain may not know their membership as it stands here yet: written with the membership change
    /// itself, cleared once the user grain took it, retried until then (the group is the truth; this is its outbox).
    /// Kept here while the group is small; in the buckets with the members once it is spread.
    /// </summary>
    [Id(4)]
    public HashSet<string> Unnotified { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// 0 while the members live in this state; otherwise the number of <see cref="GroupMemberBucket"/> states they are
    /// spread over (a power of two), so that a membership change rewrites one bucket rather than the whole group.
    /// </summary>
    [Id(5)]
    public int Buckets { get; set; }

    /// <summary>Which set of bucket states is current: a new layout is written whole before this state points at it.</summary>
    [Id(6)]
    public int Layout { get; set; }

    /// <summary>
    /// Muted users and when their mute ends (null: until unmuted). Kept here, not in the member buckets: mutes are
    /// rare and few (capped), so a change rewrites this small state once; expired entries are dropped at the next write.
    /// </summary>
    [Id(7)]
    public Dictionary<string, DateTimeOffset?> Mutes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Banned users: refused join, post, read and resume whatever the policy. Here for the same reason as <see cref="Mutes"/>.</summary>
    [Id(8)]
    public HashSet<string> Bans { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Part of a large group's members (those whose id hashes to it) and their outbox entries.</summary>
[GenerateSerializer, Alias("sb.GroupMemberBucket")]
public sealed class GroupMemberBucket
{
    [Id(0)]
    public Dictionary<string, GroupRole> Members { get; set; } = new(StringComparer.Ordinal);

    [Id(1)]
    public HashSet<string> Unnotified { get; set; } = new(StringComparer.Ordinal);
}
