using System.Text.Json;

namespace Switchboard.Bench.Load;

/// <summary>
/// <c>summary FILE.json...</c>: groups reports by workload and mode and prints, for every figure, the median
/// with min–max over the runs (docs/performance.md: the median of at least 3 runs with its min–max).
/// </summary>
internal static class ReportSummary
{
    public static int Run(IReadOnlyList<string> files)
    {
        if (files.Count == 0)
        {
            Console.Error.WriteLine("usage: summary FILE.json...");
            return 2;
        }

        var runs = new List<(string Workload, string Title, string Mode, string File, JsonElement Root)>();
        foreach (var file in files)
        {
            try
            {
                var root = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
                runs.Add((root.GetProperty("workload").GetString()!, root.GetProperty("title").GetString()!, root.GetProperty("mode").GetString()!, file, root));
            }
            catch (Exception exception) when (exception is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                Console.Error.WriteLine($"summary: skipping {file}: {exception.Message}");
            }
        }

        foreach (var group in runs.GroupBy(r => (r.Workload, r.Mode)).OrderBy(g => g.Key.Mode == "direct" ? 0 : 1).ThenBy(g => g.Key.Workload, StringComparer.Ordinal))
        {
            var list = group.ToList();
            Console.WriteLine();
            Console.WriteLine($"{list[0].Title} · {group.Key.Mode} · {list.Count} run{(list.Count == 1 ? string.Empty : "s")}: median [min–max]");
            var names = list.SelectMany(r => r.Root.GetProperty("figures").EnumerateObject().Select(p => p.Name)).Distinct().ToList();
            foreach (var name in names)
            {
                var values = list
                    .Select(r => r.Root.GetProperty("figures").TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : (double?)null)
                    .Where(v => v is not null)
                    .Select(v => v!.Value)
                    .Order()
                    .ToArray();
                if (values.Length == 0)
                {
                    Console.WriteLine($"  {name,-36} -");
                    continue;
                }

                Console.WriteLine($"  {name,-36} {Number(Median(values)),12}  [{Number(values[0])}–{Number(values[^1])}]{(values.Length < list.Count ? $"  ({values.Length} of {list.Count} runs)" : string.Empty)}");
            }

            foreach (var run in list)
            {
                var problems = run.Root.GetProperty("problems").EnumerateArray().Select(p => p.GetString()).ToList();
                var verdict = run.Root.TryGetProperty("machine", out var machine) && machine.ValueKind == JsonValueKind.Object ? machine.GetProperty("verdict").GetString() : "?";
                Console.WriteLine($"  {Path.GetFileName(run.File)}: {(problems.Count == 0 ? "ok" : "PROBLEMS: " + string.Join("; ", problems))}; machine: {verdict}");
            }
        }

        return 0;
    }

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;

    private static string Number(double value) => ReportWriter.F(value, Math.Abs(value) >= 100 ? "F0" : Math.Abs(value) >= 10 ? "F1" : "F2");
}
