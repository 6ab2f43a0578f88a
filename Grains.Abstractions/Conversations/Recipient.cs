using System.Diagnostics.CodeAnalysis;
using Switchboard.Identity;

namespace Switchboard.Conversations;

/// <summary>The <c>to</c> of a send: <c>user:&lt;id&gt;</c> or <c>group:&lt;id&gt;</c>.</summary>
[GenerateSerializer, Immutable, Alias("sb.Recipient")]
public readonly record struct Recipient
{
    private const string UserPrefix = "user:";
    private const string GroupPrefix = "group:";

    private Recipient(string value) => Value = value;

    /// <summary>The canonical text form.</summary>
    [Id(0)]
    public string Value { get; }

    /// <summary>True for <c>group:</c> recipients.</summary>
    public bool IsGroup => Value.StartsWith(GroupPrefix, StringComparison.Ordinal);

    /// <summary>The addressed user (for <c>user:</c> recipients).</summary>
    public UserId User => !IsGroup ? new UserId(Value[UserPrefix.Length..]) : throw new InvalidOperationException($"{Value} is not a user.");

    /// <summary>The addressed group (for <c>group:</c> recipients).</summary>
    public GroupId Group => IsGroup ? new GroupId(Value[GroupPrefix.Length..]) : throw new InvalidOperationException($"{Value} is not a group.");

    /// <summary>Addresses a user.</summary>
    public static Recipient ForUser(UserId user) => new(UserPrefix + user.Value);

    /// <summary>Addresses a group.</summary>
    public static Recipient ForGroup(GroupId group) => new(GroupPrefix + group.Value);

    /// <summary>Parses a client-supplied <c>to</c>.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Recipient recipient)
    {
        recipient = default;
        if (value is null)
        {
            return false;
        }

        if (value.StartsWith(UserPrefix, StringComparison.Ordinal) && Identifier.IsValid(value.AsSpan(UserPrefix.Length)))
        {
            recipient = new Recipient(value);
            return true;
        }

        if (value.StartsWith(GroupPrefix, StringComparison.Ordinal) && Identifier.IsValid(value.AsSpan(GroupPrefix.Length)))
        {
            recipient = new Recipient(value);
            return true;
        }

        return false;
    }

    /// <inheritdoc />
    public override string ToString() => Value;
}
