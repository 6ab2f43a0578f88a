using System.Reflection;
using Switchboard.Grains.Users;
using Switchboard.Identity;

namespace Switchboard.Tests.Contracts;

/// <summary>The contract surface found by reflection, so a new type cannot slip past the contract tests.</summary>
internal static class ContractTypes
{
    public static Assembly Abstractions { get; } = typeof(UserId).Assembly;

    public static Assembly Grains { get; } = typeof(UserState).Assembly;

    /// <summary>Every <c>[GenerateSerializer]</c> type of the contracts and of the persisted state.</summary>
    public static IEnumerable<Type> Serializable() =>
        new[] { Abstractions, Grains }
            .SelectMany(a => a.GetTypes())
            .Where(t => t.IsDefined(typeof(GenerateSerializerAttribute), inherit: false));

    /// <summary>Every grain and observer interface of the contracts.</summary>
    public static IEnumerable<Type> GrainInterfaces() =>
        Abstractions.GetTypes().Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t));
}
