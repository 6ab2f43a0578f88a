using System.Reflection;
using Microsoft.Extensions.Logging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Contracts;

/// <summary>Operators filter and alert on event ids (docs/operations.md): one id means one kind of entry.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class LogEventIdTests
{
    [Fact]
    public void Every_log_event_id_of_the_product_is_used_once()
    {
        var events = ProductAssemblies()
            .SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(method => (method, attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(e => e.attribute is not null)
            .Select(e => (id: e.attribute!.EventId, name: $"{e.method.DeclaringType!.FullName}.{e.method.Name}"))
            .ToList();

        Assert.NotEmpty(events);
        var reused = events.GroupBy(e => e.id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.name))}").ToList();
        Assert.True(reused.Count == 0, $"event ids used more than once: {string.Join("; ", reused)}");
    }

    private static IEnumerable<Assembly> ProductAssemblies() =>
        Directory.GetFiles(AppContext.BaseDirectory, "Switchboard.*.dll")
            .Where(path => !Path.GetFileName(path).StartsWith("Switchboard.Tests", StringComparison.Ordinal))
            .Select(path => Assembly.LoadFrom(path));
}
