using System.Diagnostics.CodeAnalysis;

namespace Switchboard.Identity;

/// <summary>A group id, validated at the edge (see <see cref="Identifier"/>).</summary>
[GenerateSerializer, Immutable, Alias("sb.GroupId")]
public readonly record struct GroupId
{
    /// <summary>Wraps an id the caller has already validated.</summary>
    public GroupId(string value) => Value = value;

    /// <summary>The id as the client wrote it.</summary>
    [Id(0)]
    public string Value { get; }

    /// <summary>Parses a client-supplied id.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out GroupId id)
    {
        if (value is not null && Identifier.IsValid(value))
        {
            id = new GroupId(value);
            return true;
        }

        id = default;
        return false;
    }

    /// <summary>Parses an id, throwing <see cref="FormatException"/> when it is malformed.</summary>
    public static GroupId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not a valid group id.");

    /// <inheritdoc />
    public override string ToString() => Value;
}
