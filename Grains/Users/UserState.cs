namespace Switchboard.Grains.Users;

/// <summary>The persisted state of a user: its group memberships (a copy of what the group grains own).</summary>
[GenerateSerializer, Alias("sb.UserState")]
public sealed class UserState
{
    [Id(0)]
    public HashSet<string> Groups { get; set; } = new(StringComparer.Ordinal);
}
