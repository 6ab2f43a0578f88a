using System.Collections.Immutable;
using Switchboard.Identity;

namespace Switchboard.Groups;

/// <summary>Who may join, post and read a group (docs/protocol.md, Groups).</summary>
public enum GroupPolicy
{
    /// <summary>Anyone may join and post, without joining first; anyone may read.</summary>
    Open = 0,

    /// <summary>Only members post and read; owners add members; <c>join</c> is forbidden.</summary>
    Members = 1,

    /// <summary>Only owners and admins post; anyone may join to read; members read.</summary>
    Announce = 2,
}

/// <summary>A member's role in a group.</summary>
public enum GroupRole
{
    /// <summary>A plain member.</summary>
    Member = 0,

    /// <summary>An owner: manages policy and members, posts to announce groups.</summary>
    Owner = 1,
}

/// <summary>Wire names of group policies and roles.</summary>
public static class GroupNames
{
    /// <summary>The wire name of a policy.</summary>
    public static string ToWire(this GroupPolicy policy) => policy switch
    {
        GroupPolicy.Open => "open",
        GroupPolicy.Members => "members",
        GroupPolicy.Announce => "announce",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, null),
    };

    /// <summary>The wire name of a role.</summary>
    public static string ToWire(this GroupRole role) => role switch
    {
        GroupRole.Member => "member",
        GroupRole.Owner => "owner",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    /// <summary>Parses a policy name.</summary>
    public static bool TryParsePolicy(string? value, out GroupPolicy policy)
    {
        switch (value)
        {
            case "open": policy = GroupPolicy.Open; return true;
            case "members": policy = GroupPolicy.Members; return true;
            case "announce": policy = GroupPolicy.Announce; return true;
            default: policy = default; return false;
        }
    }

    /// <summary>Parses a role name.</summary>
    public static bool TryParseRole(string? value, out GroupRole role)
    {
        switch (value)
        {
            case "member": role = GroupRole.Member; return true;
            case "owner": role = GroupRole.Owner; return true;
            default: role = default; return false;
        }
    }
}

/// <summary>Who may read a group's conversation and see its members: the one rule the grain and the API share.</summary>
public static class GroupReaders
{
    /// <summary>Anyone reads an open group; <c>members</c> and <c>announce</c> groups are read by their members only.</summary>
    public static bool MayRead(GroupPolicy policy, bool isMember) => policy == GroupPolicy.Open || isMember;
}

/// <summary>A group as <c>GET /api/groups/{id}</c> shows it (the edge decides who sees which part).</summary>
[GenerateSerializer, Immutable, Alias("sb.GroupInfo")]
public sealed record GroupInfo(
    [property: Id(0)] GroupId Id,
    [property: Id(1)] GroupPolicy Policy,
    [property: Id(2)] ImmutableArray<GroupMember> Members,
    [property: Id(3)] ImmutableArray<GroupMute> Mutes,
    [property: Id(4)] ImmutableArray<UserId> Bans)
{
    /// <summary>Whether <paramref name="user"/> may read the group (<see cref="GroupReaders.MayRead"/>); never when banned.</summary>
    public bool MayRead(UserId user) => !Bans.Contains(user) && GroupReaders.MayRead(Policy, Members.Any(m => m.User == user));

    /// <summary>Whether <paramref name="user"/> is an owner of the group.</summary>
    public bool IsOwner(UserId user) => Members.Any(m => m.User == user && m.Role == GroupRole.Owner);
}

/// <summary>A muted user and when the mute ends (null: until unmuted).</summary>
[GenerateSerializer, Immutable, Alias("sb.GroupMute")]
public sealed record GroupMute(
    [property: Id(0)] UserId User,
    [property: Id(1)] DateTimeOffset? Until);

/// <summary>A member and its role.</summary>
[GenerateSerializer, Immutable, Alias("sb.GroupMember")]
public sealed record GroupMember(
    [property: Id(0)] UserId User,
    [property: Id(1)] GroupRole Role);
