using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;

namespace Switchboard.Tests.Infrastructure;

/// <summary>Fresh user ids chosen for which side of a direct conversation sequences it.</summary>
public static class UserIds
{
    /// <summary>A fresh id (prefix + random) whose grain owns its direct conversation with <paramref name="other"/>.</summary>
    public static string OwningDirectConversationWith(string other, string prefix) => Pick(other, prefix, owns: true);

    /// <summary>A fresh id (prefix + random) whose direct conversation with <paramref name="other"/> is owned by <paramref name="other"/>.</summary>
    public static string OwnedByOther(string other, string prefix) => Pick(other, prefix, owns: false);

    private static string Pick(string other, string prefix, bool owns)
    {
        // Each candidate has a one-in-two chance: 64 misses in a row would mean the rule no longer spreads.
        for (var attempt = 0; attempt < 64; attempt++)
        {
            var id = SiloHostFixture.NewId(prefix);
            var owner = DirectConversations.OwnerOf(ConversationId.Direct(new UserId(id), new UserId(other)));
            if ((owner.Value == id) == owns)
            {
                return id;
            }
        }

        throw new InvalidOperationException("The owner rule picked the same side 64 times in a row.");
    }
}
