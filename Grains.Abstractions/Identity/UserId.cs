using System.Diagnostics.CodeAnalysis;

namespace Switchboard.Identity;

/// <summary>A user id, validated at the edge (see <see cref="Identifier"/>).</summary>
[GenerateSerializer, Immutable, Alias("sb.UserId")]
public readonly record struct UserId
{
    /// <summary>Wraps an id the caller has already validated.</summary>
    public UserId(string value) => Value = value;

    /// <summary>The id as the client wrote it.</summary>
    [Id(0)]
    public string Value { get; }

    /// <summary>Parses a client-supplied id.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out UserId id)
    {
        if (value is not null && Identifier.IsValid(value))
        {
            id = new UserId(value);
            return true;
        }

        id = default;
        return false;
    }

    /// <summary>Parses an id, throwing <see cref="FormatException"/> when it is malformed.</summary>
    public static UserId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not a valid user id.");

    /// <inheritdoc />
    public override string ToString() => Value;
}
