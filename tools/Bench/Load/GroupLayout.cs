using System.Text;

namespace Switchboard.Bench.Load;

/// <summary>W2's groups: their ids (fresh per run, so no earlier run's members receive them) and members by client index.</summary>
internal sealed class GroupLayout
{
    public GroupLayout(string[] ids, int[][] members)
    {
        Ids = ids;
        Members = members;
        AddressUtf8 = [.. ids.Select(id => Encoding.UTF8.GetBytes($"group:{id}"))];
    }

    public string[] Ids { get; }

    /// <summary>Client indexes per group; the first member of each group is its sender.</summary>
    public int[][] Members { get; }

    /// <summary><c>group:&lt;id&gt;</c>: both the <c>to</c> and the conversation of the group's messages.</summary>
    public byte[][] AddressUtf8 { get; }
}
