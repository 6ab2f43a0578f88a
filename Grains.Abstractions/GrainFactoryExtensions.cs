using Switchboard.Conversations;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Users;

namespace Switchboard;

/// <summary>The one place grain keys are built from typed ids.</summary>
public static class GrainFactoryExtensions
{
    /// <summary>The grain of a user.</summary>
    public static IUserGrain GetUserGrain(this IGrainFactory factory, UserId user) =>
        factory.GetGrain<IUserGrain>(user.Value);

    /// <summary>The grain of a group.</summary>
    public static IGroupGrain GetGroupGrain(this IGrainFactory factory, GroupId group) =>
        factory.GetGrain<IGroupGrain>(group.Value);

    /// <summary>The sequencer of a direct conversation.</summary>
    public static IDirectConversationGrain GetDirectConversationGrain(this IGrainFactory factory, ConversationId conversation) =>
        conversation.IsGroup
            ? throw new ArgumentException($"{conversation} is not a direct conversation.", nameof(conversation))
            : factory.GetGrain<IDirectConversationGrain>(conversation.Value);
}
