using System.Text.Json;
using System.Text.RegularExpressions;

namespace Switchboard.Tests.Telemetry;

/// <summary>
/// Reads the two sides of the Grafana dashboard check: the metric names a scrape exposes (Prometheus text format) and
/// the metric names a PromQL query reads.
/// </summary>
public static partial class PrometheusText
{
    /// <summary>Every series name in a text-format exposition (histograms as their _bucket, _sum and _count).</summary>
    public static HashSet<string> SeriesNames(string exposition) =>
        exposition.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith('#'))
            .Select(line => SeriesName().Match(line))
            .Where(m => m.Success)
            .Select(m => m.Value)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The metric names a PromQL expression selects: what is left once strings, label matchers, ranges, grouping
    /// clauses, variables, function calls, keywords and numbers are taken out.
    /// </summary>
    public static IReadOnlyList<string> MetricNames(string expression)
    {
        var rest = Strings().Replace(expression, " ");
        rest = Variables().Replace(rest, " ");
        rest = LabelMatchers().Replace(rest, " ");
        rest = Ranges().Replace(rest, " ");
        rest = Grouping().Replace(rest, " ");
        return Identifiers().Matches(rest)
            .Where(m => !m.Groups["call"].Success && !Keywords.Contains(m.Groups["name"].Value))
            .Select(m => m.Groups["name"].Value)
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Each panel's title with the metric names of its queries, from a Grafana dashboard's JSON.</summary>
    public static IReadOnlyList<(string Panel, string Expression, IReadOnlyList<string> Names)> DashboardQueries(string json)
    {
        using var document = JsonDocument.Parse(json);
        var queries = new List<(string, string, IReadOnlyList<string>)>();
        foreach (var panel in document.RootElement.GetProperty("panels").EnumerateArray())
        {
            var title = panel.GetProperty("title").GetString()!;
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                var expression = target.GetProperty("expr").GetString()!;
                queries.Add((title, expression, MetricNames(expression)));
            }
        }

        return queries;
    }

    /// <summary>"panel: name" for every metric a query reads that <paramref name="exposed"/> lacks.</summary>
    public static IReadOnlyList<string> Missing(IEnumerable<(string Panel, string Expression, IReadOnlyList<string> Names)> queries, IReadOnlySet<string> exposed) =>
        queries.SelectMany(q => q.Names.Where(n => !exposed.Contains(n)).Select(n => $"{q.Panel}: {n}")).ToList();

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan",
    };

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex SeriesName();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\$\{?\w+\}?")]
    private static partial Regex Variables();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w.])(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<call>\s*\()?")]
    private static partial Regex Identifiers();
}
