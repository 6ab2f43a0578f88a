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
}
