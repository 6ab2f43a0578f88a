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

    /// <summary>Members by user id, with their role.</summary>
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
    /// </summary>
    [Id(4)]
    public HashSet<string> Unnotified { get; set; } = new(StringComparer.Ordinal);
}
