namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// The trait every test class carries, so a filter picks an inner loop:
/// <c>dotnet test Tests --filter Category=fast</c>, or <c>Category!=durable</c> for everything in-process.
/// </summary>
public static class Category
{
    public const string Name = "Category";

    /// <summary>No host, no server, no child process.</summary>
    public const string Fast = "fast";

    /// <summary>In-process Orleans silos or silo hosts on real Kestrel sockets, with in-memory storage.</summary>
    public const string Cluster = "cluster";

    /// <summary>Real Redis and MariaDB servers, silo and gateway processes.</summary>
    public const string Durable = "durable";
}
