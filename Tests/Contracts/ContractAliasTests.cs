using System.Reflection;
using Switchboard.Cluster;
using Switchboard.Connections;
using Switchboard.Conversations;
using Switchboard.Groups;
using Switchboard.Users;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Contracts;

/// <summary>
/// Aliases keep the wire and storage names stable across renames and moves: a contract without one would
/// break rolling upgrades and stored state the day someone renames it.
/// </summary>
[Trait(Category.Name, Category.Fast)]
public sealed class ContractAliasTests
{
    [Fact]
    public void The_grain_interfaces_are_found()
    {
        Type[] expected = [typeof(IUserGrain), typeof(IGroupGrain), typeof(IConnectionSink), typeof(IClusterDirectoryGrain), typeof(ITokenRevocationsGrain)];

        Assert.Equal(
            expected.Select(t => t.FullName).Order(StringComparer.Ordinal),
            ContractTypes.GrainInterfaces().Select(t => t.FullName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_grain_interface_has_an_alias()
    {
        var missing = ContractTypes.GrainInterfaces()
            .Where(t => t.GetCustomAttribute<AliasAttribute>() is null)
            .Select(t => t.FullName)
            .ToList();

        Assert.True(missing.Count == 0, $"Grain interfaces without [Alias]: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_grain_interface_method_has_an_alias_unique_in_its_interface()
    {
        foreach (var type in ContractTypes.GrainInterfaces())
        {
            var methods = type.GetMethods();
            var missing = methods.Where(m => m.GetCustomAttribute<AliasAttribute>() is null).Select(m => m.Name).ToList();
            Assert.True(missing.Count == 0, $"Methods of {type.Name} without [Alias]: {string.Join(", ", missing)}");

            var duplicates = methods
                .GroupBy(m => m.GetCustomAttribute<AliasAttribute>()!.Alias, StringComparer.Ordinal)
                .Where(g => g.Count() > 1)
                .Select(g => g.Key)
                .ToList();
            Assert.True(duplicates.Count == 0, $"Methods of {type.Name} sharing an alias: {string.Join(", ", duplicates)}");
        }
    }

    [Fact]
    public void Every_serializable_type_has_an_alias()
    {
        var missing = ContractTypes.Serializable()
            .Where(t => t.GetCustomAttribute<AliasAttribute>() is null)
            .Select(t => t.FullName)
            .ToList();

        Assert.True(missing.Count == 0, $"[GenerateSerializer] types without [Alias]: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Type_aliases_are_unique()
    {
        var duplicates = ContractTypes.Serializable()
            .Concat(ContractTypes.GrainInterfaces())
            .Select(t => t.GetCustomAttribute<AliasAttribute>()?.Alias)
            .OfType<string>()
            .GroupBy(a => a, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => g.Key)
            .ToList();

        Assert.True(duplicates.Count == 0, $"Aliases used twice: {string.Join(", ", duplicates)}");
    }
}
