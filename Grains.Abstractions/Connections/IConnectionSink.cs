using Orleans.Concurrency;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Users;

namespace Switchboard.Connections;

/// <summary>
/// A silo's door to its own sockets: one per silo, registered as an observer. Grains call it once per silo
/// that holds recipients; the silo expands the call to its local sockets. Calls are best effort: a message
/// that matters is already in the log, and <c>resume</c> repairs what a lost call dropped.
/// </summary>
[Alias("sb.IConnectionSink")]
public interface IConnectionSink : IGrainObserver
{
    /// <summary>Writes <paramref name="delivery"/> to every local socket of <paramref name="user"/> except the excluded one.</summary>
    [OneWay, Alias("DeliverToUser")]
    Task DeliverToUserAsync(UserId user, Delivery delivery);

    /// <summary>Writes <paramref name="delivery"/> to every local socket of the group's members except the excluded one.</summary>
    [OneWay, Alias("DeliverToGroup")]
    Task DeliverToGroupAsync(GroupId group, Delivery delivery);

    /// <summary>Tells the silo that <paramref name="user"/> joined or left <paramref name="group"/>, so it can (un)subscribe.</summary>
    [Alias("MembershipChanged")]
    Task MembershipChangedAsync(UserId user, GroupId group, bool isMember);

    /// <summary>
    /// Applies a token revocation on this silo: later checks refuse those tokens, and the user's sockets opened with
    /// one are closed with 4003. Returns how many sockets it closed.
    /// </summary>
    [Alias("RevokeTokens")]
    Task<int> RevokeTokensAsync(TokenRevocation revocation);
}
