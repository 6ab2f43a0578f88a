using System.Collections.Concurrent;
using System.Collections.Immutable;
using Switchboard.Identity;

namespace Switchboard.Silo.Connections;

/// <summary>
/// This silo's sockets: by connection, by user, and the group → local members index that turns one
/// group call per silo into writes to local sockets. Reads (every delivery) take no lock: they see
/// immutable snapshots; writes (connects, disconnects, membership changes) are rare and serialized.
/// </summary>
public sealed class ConnectionRegistry
{
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<ConnectionId, IClientConnection> _connections = new();
    private readonly ConcurrentDictionary<UserId, LocalUser> _users = new();
    private readonly ConcurrentDictionary<GroupId, ImmutableArray<UserId>> _groups = new();

    public int ConnectionCount => _connections.Count;

    public int UserCount => _users.Count;

    public IEnumerable<IClientConnection> Connections => _connections.Values;

    /// <summary>Adds a connection; returns true when it is the user's first on this silo.</summary>
    public bool Add(IClientConnection connection)
    {
        lock (_lock)
        {
            _connections[connection.Id] = connection;
            if (_users.TryGetValue(connection.User, out var user))
            {
                _users[connection.User] = user with { Connections = user.Connections.Add(connection) };
                return false;
            }

            _users[connection.User] = new LocalUser([connection], []);
            return true;
        }
    }

    /// <summary>Removes a connection; returns the groups nobody on this silo belongs to any more.</summary>
    public ImmutableArray<GroupId> Remove(IClientConnection connection, out bool lastOfUser)
    {
        lock (_lock)
        {
            lastOfUser = false;
            if (!_connections.TryRemove(connection.Id, out _) || !_users.TryGetValue(connection.User, out var user))
            {
                return [];
            }

            var remaining = user.Connections.Remove(connection);
            if (!remaining.IsEmpty)
            {
                _users[connection.User] = user with { Connections = remaining };
                return [];
            }

            lastOfUser = true;
            _users.TryRemove(connection.User, out _);
            var emptied = ImmutableArray.CreateBuilder<GroupId>();
            foreach (var group in user.Groups)
            {
                if (RemoveFromGroup(group, connection.User))
                {
                    emptied.Add(group);
                }
            }

            return emptied.ToImmutable();
        }
    }

    /// <summary>
    /// Sets the groups of a user with local sockets. Returns the groups that gained their first local member
    /// (subscribe) and those that lost their last (unsubscribe).
    /// </summary>
    public (ImmutableArray<GroupId> Added, ImmutableArray<GroupId> Emptied) SetGroups(UserId userId, IEnumerable<GroupId> groups)
    {
        lock (_lock)
        {
            if (!_users.TryGetValue(userId, out var user))
            {
                return ([], []);
            }

            var wanted = groups.ToImmutableHashSet();
            var added = ImmutableArray.CreateBuilder<GroupId>();
            var emptied = ImmutableArray.CreateBuilder<GroupId>();
            foreach (var group in wanted.Except(user.Groups))
            {
                if (AddToGroup(group, userId))
                {
                    added.Add(group);
                }
            }

            foreach (var group in user.Groups.Except(wanted))
            {
                if (RemoveFromGroup(group, userId))
                {
                    emptied.Add(group);
                }
            }

            _users[userId] = user with { Groups = wanted };
            return (added.ToImmutable(), emptied.ToImmutable());
        }
    }

    /// <summary>Adds or removes one group of a user with local sockets; same results as <see cref="SetGroups"/>.</summary>
    public (ImmutableArray<GroupId> Added, ImmutableArray<GroupId> Emptied) SetMembership(UserId userId, GroupId group, bool isMember)
    {
        lock (_lock)
        {
            if (!_users.TryGetValue(userId, out var user))
            {
                return ([], []);
            }

            var groups = isMember ? user.Groups.Add(group) : user.Groups.Remove(group);
            return SetGroups(userId, groups);
        }
    }

    public ImmutableArray<IClientConnection> GetUserConnections(UserId user) =>
        _users.TryGetValue(user, out var local) ? local.Connections : [];

    public ImmutableArray<UserId> GetGroupMembers(GroupId group) =>
        _groups.TryGetValue(group, out var members) ? members : [];

    /// <summary>Every local user with its connection ids, for renewals.</summary>
    public IEnumerable<(UserId User, ImmutableArray<ConnectionId> Connections)> SnapshotUsers() =>
        _users.Select(pair => (pair.Key, pair.Value.Connections.Select(c => c.Id).ToImmutableArray()));

    /// <summary>Every group with local members, for subscription renewals.</summary>
    public IEnumerable<GroupId> SnapshotGroups() => _groups.Keys;

    private bool AddToGroup(GroupId group, UserId user)
    {
        if (_groups.TryGetValue(group, out var members))
        {
            _groups[group] = members.Add(user);
            return false;
        }

        _groups[group] = [user];
        return true;
    }

    private bool RemoveFromGroup(GroupId group, UserId user)
    {
        if (!_groups.TryGetValue(group, out var members))
        {
            return false;
        }

        var remaining = members.Remove(user);
        if (remaining.IsEmpty)
        {
            _groups.TryRemove(group, out _);
            return true;
        }

        _groups[group] = remaining;
        return false;
    }

    private sealed record LocalUser(ImmutableArray<IClientConnection> Connections, ImmutableHashSet<GroupId> Groups);
}
