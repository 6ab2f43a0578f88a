using System.Globalization;
using System.Text.RegularExpressions;
using MySqlConnector;
using Switchboard.Persistence.MariaDb.Hosting;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Docs;

/// <summary>
/// The MariaDB connection budget the docs give operators, checked against the code: how many pools a silo opens
/// and how large each is by default. A change of either fails here until the docs and the local cluster follow.
/// </summary>
[Trait(Category.Name, Category.Fast)]
public sealed partial class ConnectionPoolDocsTests
{
    private const string Sample = "Server=db;Database=switchboard;User ID=switchboard";

    private static readonly string Root = ChildProcesses.RepositoryRoot();

    private static int PoolsPerSilo => MariaDbHosting.PoolConnectionStrings(Sample).Distinct(StringComparer.Ordinal).Count();

    private static int DefaultPoolSize => (int)new MySqlConnectionStringBuilder(Sample).MaximumPoolSize;

    [Theory]
    [InlineData("docs/configuration.md")]
    [InlineData("deploy/reference/README.md")]
    public void The_max_connections_formula_matches_the_pools_a_silo_opens(string doc)
    {
        var match = Formula().Match(File.ReadAllText(Path.Combine(Root, doc)));

        Assert.True(match.Success, $"{doc} states no formula like \"silos × 2 × `Maximum Pool Size` + 10 (two silos at the default 100: 410)\".");
        var pools = Number(match, "pools");
        var margin = Number(match, "margin");
        Assert.Equal(PoolsPerSilo, pools);
        Assert.Equal(DefaultPoolSize, Number(match, "size"));
        Assert.Equal((2 * pools * DefaultPoolSize) + margin, Number(match, "total"));
    }

    [Fact]
    public void The_reference_env_file_and_the_local_cluster_fit_the_formula()
    {
        var env = File.ReadAllText(Path.Combine(Root, "deploy/reference/env/silo.env"));
        Assert.Equal(DefaultPoolSize, Number(PoolSize().Match(env), "size"));

        var cluster = File.ReadAllText(Path.Combine(Root, "deploy/local/cluster.sh"));
        var silos = Number(SiloCount().Match(cluster), "count");
        var size = Number(PoolSize().Match(cluster), "size");
        var maxConnections = Number(MaxConnections().Match(cluster), "max");
        Assert.True(maxConnections >= silos * PoolsPerSilo * size,
            $"deploy/local/cluster.sh: --max-connections={maxConnections} is less than {silos} silos × {PoolsPerSilo} pools × {size}.");
    }

    private static int Number(Match match, string group) =>
        match.Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"no match for {group}");

    [GeneratedRegex(@"silos × (?<pools>\d+) × `Maximum Pool Size` \+ (?<margin>\d+) \(two silos at the default (?<size>\d+): (?<total>\d+)\)")]
    private static partial Regex Formula();

    [GeneratedRegex(@"Maximum Pool Size=(?<size>\d+)")]
    private static partial Regex PoolSize();

    [GeneratedRegex(@"^SILO_COUNT=(?<count>\d+)", RegexOptions.Multiline)]
    private static partial Regex SiloCount();

    [GeneratedRegex(@"--max-connections=(?<max>\d+)")]
    private static partial Regex MaxConnections();
}
