using System.Diagnostics.CodeAnalysis;
using Switchboard.Identity;

namespace Switchboard.Conversations;

/// <summary>
/// A conversation: <c>dm:&lt;a&gt;:&lt;b&gt;</c> for two users (a &lt; b in ordinal order) or <c>group:&lt;id&gt;</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("sb.ConversationId")]
public readonly record struct ConversationId
{
    private const string DirectPrefix = "dm:";
    private const string GroupPrefix = "group:";

    private ConversationId(string value) => Value = value;

    /// <summary>The canonical text form.</summary>
    [Id(0)]
    public string Value { get; }

    /// <summary>True for <c>group:</c> conversations.</summary>
    public bool IsGroup => Value.StartsWith(GroupPrefix, StringComparison.Ordinal);

    /// <summary>The direct conversation of two distinct users.</summary>
    public static ConversationId Direct(UserId a, UserId b)
    {
        var order = string.CompareOrdinal(a.Value, b.Value);
        if (order == 0)
        {
            throw new ArgumentException("A direct conversation needs two distinct users.", nameof(b));
        }

        return order < 0 ? new($"{DirectPrefix}{a.Value}:{b.Value}") : new($"{DirectPrefix}{b.Value}:{a.Value}");
    }

    /// <summary>The conversation of a group.</summary>
    public static ConversationId ForGroup(GroupId group) => new(GroupPrefix + group.Value);

    /// <summary>The group of a <c>group:</c> conversation.</summary>
    public GroupId Group => IsGroup ? new GroupId(Value[GroupPrefix.Length..]) : throw new InvalidOperationException($"{Value} is not a group conversation.");

    /// <summary>The two participants of a <c>dm:</c> conversation, in ordinal order.</summary>
    public (UserId First, UserId Second) Participants
    {
        get
        {
            if (IsGroup)
            {
                throw new InvalidOperationException($"{Value} is not a direct conversation.");
            }

            var rest = Value.AsSpan(DirectPrefix.Length);
            var colon = rest.IndexOf(':');
            return (new UserId(rest[..colon].ToString()), new UserId(rest[(colon + 1)..].ToString()));
        }
    }

    /// <summary>True when <paramref name="user"/> takes part in this direct conversation.</summary>
    public bool HasParticipant(UserId user)
    {
        if (IsGroup)
        {
            return false;
        }

        var (first, second) = Participants;
        return first == user || second == user;
    }

    /// <summary>Parses the canonical text form; a <c>dm:</c> id must name two distinct users in ordinal order.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out ConversationId id)
    {
        id = default;
        if (value is null)
        {
            return false;
        }

        if (value.StartsWith(GroupPrefix, StringComparison.Ordinal))
        {
            if (!Identifier.IsValid(value.AsSpan(GroupPrefix.Length)))
            {
                return false;
            }

            id = new ConversationId(value);
            return true;
        }

        if (value.StartsWith(DirectPrefix, StringComparison.Ordinal))
        {
            var rest = value.AsSpan(DirectPrefix.Length);
            var colon = rest.IndexOf(':');
            if (colon < 0)
            {
                return false;
            }

            var a = rest[..colon];
            var b = rest[(colon + 1)..];
            if (!Identifier.IsValid(a) || !Identifier.IsValid(b) || a.SequenceCompareTo(b) >= 0)
            {
                return false;
            }

            id = new ConversationId(value);
            return true;
        }

        return false;
    }

    /// <inheritdoc />
    public override string ToString() => Value;
}
