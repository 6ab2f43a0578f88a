namespace Switchboard.Identity;

/// <summary>Who asks: the token's user and global role (e.g. <c>teacher</c>, <c>student</c>, <c>admin</c>).</summary>
[GenerateSerializer, Immutable, Alias("sb.Caller")]
public sealed record Caller([property: Id(0)] UserId User, [property: Id(1)] string Role)
{
    /// <summary>The global role of operators: may manage every group and read every user's list.</summary>
    public const string AdminRole = "admin";

    /// <summary>The global role that may create groups, besides <see cref="AdminRole"/>.</summary>
    public const string TeacherRole = "teacher";

    /// <summary>True for the <c>admin</c> role.</summary>
    public bool IsAdmin => string.Equals(Role, AdminRole, StringComparison.Ordinal);

    /// <summary>True when this caller may create groups.</summary>
    public bool MayCreateGroups => IsAdmin || string.Equals(Role, TeacherRole, StringComparison.Ordinal);
}
