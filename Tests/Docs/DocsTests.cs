using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using System.Text.RegularExpressions;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Docs;

/// <summary>
/// The docs are part of the product: links that lead nowhere, a README that grew into a manual, references to
/// files users cannot see, and settings nobody documented are bugs a reader notices.
/// </summary>
[Trait(Category.Name, Category.Fast)]
public sealed partial class DocsTests
{
    private const int ReadmeLimitBytes = 8192;
    private const string ConfigurationDoc = "docs/configuration.md";

    private static readonly string Root = FindRepositoryRoot();

    [Fact]
    public void Every_relative_link_in_the_readme_and_the_docs_resolves()
    {
        var broken = new List<string>();
        foreach (var file in LinkCheckedFiles())
        {
            foreach (var (line, target) in RelativeLinks(File.ReadAllText(file)))
            {
                var problem = Resolve(file, target);
                if (problem is not null)
                {
                    broken.Add($"{Relative(file)}:{line}: ({target}) {problem}");
                }
            }
        }

        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void The_readme_is_at_most_8_KiB()
    {
        var size = new FileInfo(Path.Combine(Root, "README.md")).Length;

        Assert.True(size <= ReadmeLimitBytes, $"README.md is {size} bytes; keep it at most {ReadmeLimitBytes} and move detail into docs/.");
    }

    [Fact]
    public void No_doc_points_at_files_outside_the_repository()
    {
        string[] forbidden = ["../shared", "PROTOCOL.md", "BENCHMARKS.md"];
        var found = new List<string>();
        foreach (var file in ReadmeAndDocs())
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                found.AddRange(forbidden.Where(f => lines[i].Contains(f, StringComparison.Ordinal)).Select(f => $"{Relative(file)}:{i + 1}: {f}"));
            }
        }

        Assert.True(found.Count == 0, "The repository stands alone; these name files users cannot see:\n" + string.Join("\n", found));
    }

    [Fact]
    public void The_options_classes_are_found_in_the_product_assemblies()
    {
        Assert.NotEmpty(OptionsTypes());
    }

    [Fact]
    public void Every_options_property_is_documented_in_its_section_of_the_configuration_doc()
    {
        var doc = File.ReadAllText(Path.Combine(Root, ConfigurationDoc));
        var missing = new List<string>();
        foreach (var (type, section) in OptionsTypes())
        {
            var text = SectionText(doc, section);
            if (text is null)
            {
                missing.Add($"{section} ({type.FullName}): no heading naming `{section}`");
                continue;
            }

            foreach (var property in SettableProperties(type))
            {
                var key = new Regex(Regex.Escape($"{section}:{property.Name}") + "(?![A-Za-z0-9_])");
                if (!key.IsMatch(text) && !text.Contains($"`{property.Name}`", StringComparison.Ordinal))
                {
                    missing.Add($"{section}:{property.Name} ({type.FullName})");
                }
            }
        }

        Assert.True(missing.Count == 0, $"Not documented in {ConfigurationDoc}:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Every_section_the_configuration_doc_describes_has_an_options_class()
    {
        var known = OptionsTypes().Select(o => o.Section).ToHashSet(StringComparer.Ordinal);
        var documented = SectionHeading().Matches(File.ReadAllText(Path.Combine(Root, ConfigurationDoc))).Select(m => m.Groups["section"].Value);

        // Also catches an options class whose assembly is missing from the test output.
        var stale = documented.Where(s => !known.Contains(s)).ToList();
        Assert.True(stale.Count == 0, $"{ConfigurationDoc} documents sections no options class binds (or whose assembly is not in the test output): {string.Join(", ", stale)}");
    }

    [Fact]
    public void The_link_reader_finds_links_and_skips_code()
    {
        var text = "See [a](docs/a.md#x) and [b][ref].\n\n[ref]: ../b.md\n`[c](not-a-link.md)`\n```\n[d](nor-this.md)\n```\n[e](https://example.com) [f](#local)\n";

        Assert.Equal(["docs/a.md#x", "../b.md", "https://example.com", "#local"], RelativeLinksAndUrls(text).Select(l => l.Target));
        Assert.Equal(["docs/a.md#x", "../b.md", "#local"], RelativeLinks(text).Select(l => l.Target));
    }

    [Fact]
    public void Anchors_follow_the_heading_slugs_of_common_markdown_renderers()
    {
        Assert.Equal("what-bounds-it-2026-11-26", Slug("What bounds it (2026-11-26)"));
        Assert.Equal("switchboardsilo-silohostoptions", Slug("`Switchboard:Silo` (SiloHostOptions)"));
        Assert.Equal("version-10-the-contract", Slug("Version 1.0: the contract"));
    }

    /// <summary>The options classes: every type in a product assembly with a <c>public const string SectionName</c>.</summary>
    private static List<(Type Type, string Section)> OptionsTypes()
    {
        var options = new List<(Type, string)>();
        foreach (var assembly in ProductAssemblies())
        {
            foreach (var type in LoadableTypes(assembly))
            {
                var field = type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static);
                if (field is { IsLiteral: true } && field.FieldType == typeof(string) && field.GetRawConstantValue() is string section)
                {
                    options.Add((type, section));
                }
            }
        }

        return options;
    }

    /// <summary>Every <c>Switchboard.*.dll</c> beside the tests but the tests themselves: types move between them.</summary>
    private static IEnumerable<Assembly> ProductAssemblies()
    {
        var tests = typeof(DocsTests).Assembly.GetName().Name;
        foreach (var path in Directory.GetFiles(AppContext.BaseDirectory, "Switchboard.*.dll").Order(StringComparer.Ordinal))
        {
            var name = AssemblyName.GetAssemblyName(path);
            if (name.Name == tests)
            {
                continue;
            }

            Assembly assembly;
            try
            {
                assembly = Assembly.Load(name);
            }
            catch (FileNotFoundException)
            {
                // Beside the tests but not in their dependency list: load it from its file.
                assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
            }

            yield return assembly;
        }
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException exception)
        {
            return exception.Types.OfType<Type>();
        }
    }

    private static IEnumerable<PropertyInfo> SettableProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0);

    /// <summary>The text under the heading that names <paramref name="section"/> in backticks, up to the next heading of its level or above.</summary>
    private static string? SectionText(string doc, string section)
    {
        var lines = doc.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith('#') && l.Contains($"`{section}`", StringComparison.Ordinal));
        if (start < 0)
        {
            return null;
        }

        var level = lines[start].TakeWhile(c => c == '#').Count();
        var text = new StringBuilder();
        for (var i = start + 1; i < lines.Length; i++)
        {
            var hashes = lines[i].TakeWhile(c => c == '#').Count();
            if (hashes > 0 && hashes <= level && lines[i].Length > hashes && lines[i][hashes] == ' ')
            {
                break;
            }

            text.AppendLine(lines[i]);
        }

        return text.ToString();
    }

    private static IEnumerable<string> ReadmeAndDocs() =>
        new[] { Path.Combine(Root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal));

    /// <summary>The README and the docs, and the READMEs they lead readers to.</summary>
    private static IEnumerable<string> LinkCheckedFiles() =>
        ReadmeAndDocs().Concat(new[] { "deploy/local/README.md", "deploy/reference/README.md", "tools/Bench/README.md" }
            .Select(f => Path.Combine(Root, f))
            .Where(File.Exists));

    private static IEnumerable<(int Line, string Target)> RelativeLinks(string markdown) =>
        RelativeLinksAndUrls(markdown).Where(l => !IsExternal(l.Target));

    /// <summary>Inline links <c>[text](target)</c> and reference definitions <c>[ref]: target</c>, outside code.</summary>
    private static IEnumerable<(int Line, string Target)> RelativeLinksAndUrls(string markdown)
    {
        var inFence = false;
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (inFence)
            {
                continue;
            }

            var prose = InlineCode().Replace(line, string.Empty);
            foreach (Match match in InlineLink().Matches(prose))
            {
                yield return (i + 1, match.Groups["target"].Value);
            }

            var definition = ReferenceDefinition().Match(prose);
            if (definition.Success)
            {
                yield return (i + 1, definition.Groups["target"].Value);
            }
        }
    }

    private static bool IsExternal(string target) =>
        target.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || target.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || target.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when <paramref name="target"/>, relative to <paramref name="file"/>, exists (and so does its anchor, in a markdown file).</summary>
    private static string? Resolve(string file, string target)
    {
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var path = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
        var anchor = hash < 0 ? null : target[(hash + 1)..];
        var resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
        if (!resolved.StartsWith(Root, StringComparison.Ordinal))
        {
            return "leads outside the repository";
        }

        if (File.Exists(resolved))
        {
            return anchor is null || !resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase) || Anchors(resolved).Contains(anchor)
                ? null
                : $"no heading or anchor '{anchor}' in {Relative(resolved)}";
        }

        return Directory.Exists(resolved) ? null : "no such file or folder";
    }

    /// <summary>The anchors of a markdown file: heading slugs (numbered when repeated) and explicit <c>&lt;a id&gt;</c>s.</summary>
    private static HashSet<string> Anchors(string file)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var inFence = false;
        foreach (var line in File.ReadLines(file))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (inFence)
            {
                continue;
            }

            var heading = Heading().Match(line);
            if (heading.Success)
            {
                var slug = Slug(heading.Groups["text"].Value);
                var unique = slug;
                for (var n = 1; !anchors.Add(unique); n++)
                {
                    unique = $"{slug}-{n}";
                }
            }

            foreach (Match explicitAnchor in ExplicitAnchor().Matches(line))
            {
                anchors.Add(explicitAnchor.Groups["id"].Value);
            }
        }

        return anchors;
    }

    /// <summary>A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string Slug(string heading)
    {
        var slug = new StringBuilder(heading.Length);
        foreach (var c in heading.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Orleans.sln.");
    }

    private static string Relative(string path) => Path.GetRelativePath(Root, path);

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\((?<target>[^()\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^\s{0,3}\[[^\]]+\]:\s*(?<target>\S+)")]
    private static partial Regex ReferenceDefinition();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"<a\s+(?:id|name)=""(?<id>[^""]+)""")]
    private static partial Regex ExplicitAnchor();

    [GeneratedRegex(@"^#{2}\s+`(?<section>Switchboard:[A-Za-z]+)`", RegexOptions.Multiline)]
    private static partial Regex SectionHeading();
}
