using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Users;

namespace Switchboard;

/// <summary>The one place grain keys are built from typed ids.</summary>
public static class GrainFactoryExtensions
{
    /// <summary>The grain of a user.</summary>
    public static IUserGrain GetUserGrain(this IGrainFactory factory, UserId user) =>
        StringKeyed<IUserGrain>.Get(factory, user.Value);

    /// <summary>The grain of a group.</summary>
    public static IGroupGrain GetGroupGrain(this IGrainFactory factory, GroupId group) =>
        StringKeyed<IGroupGrain>.Get(factory, group.Value);

    /// <summary>
    /// <c>GetGrain&lt;T&gt;(string)</c> resolves the grain and interface types from <typeparamref name="T"/>'s attributes on
    /// every call (reflection and allocations on each message's path): resolve them once, from the first reference,
    /// then build references from a <see cref="GrainId"/>. Every host in a process shares one type map, so the cache
    /// is per process.
    /// </summary>
    private static class StringKeyed<T>
        where T : IGrainWithStringKey
    {
        private static Types? s_types;

        public static T Get(IGrainFactory factory, string key)
        {
            if (s_types is { } types)
            {
                return (T)factory.GetGrain(GrainId.Create(types.Grain, key), types.Interface);
            }

            var grain = factory.GetGrain<T>(key);
            var reference = (GrainReference)(object)grain;
            s_types = new Types(reference.GrainId.Type, reference.InterfaceType);
            return grain;
        }

        private sealed record Types(GrainType Grain, GrainInterfaceType Interface);
    }
}
