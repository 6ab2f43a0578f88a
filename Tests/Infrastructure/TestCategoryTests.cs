using System.Reflection;

namespace Switchboard.Tests.Infrastructure;

/// <summary>Every test class carries one <see cref="Category"/>, so a filter never silently leaves tests out.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class TestCategoryTests
{
    private static readonly string[] Known = [Category.Fast, Category.Cluster, Category.Durable];

    [Fact]
    public void Every_test_class_has_exactly_one_known_category()
    {
        var wrong = TestClasses()
            .Select(type => (type, categories: CategoriesOf(type)))
            .Where(c => c.categories.Count != 1 || !Known.Contains(c.categories[0]))
            .Select(c => $"{c.type.FullName}: [{string.Join(", ", c.categories)}]")
            .ToList();

        Assert.True(wrong.Count == 0, $"test classes need one [Trait(Category.Name, Category.Fast|Cluster|Durable)]: {string.Join("; ", wrong)}");
    }

    [Fact]
    public void A_class_that_shares_a_host_fixture_is_not_fast_and_the_durable_fixture_is_durable()
    {
        var wrong = new List<string>();
        foreach (var type in TestClasses())
        {
            var collection = type.GetCustomAttribute<CollectionAttribute>();
            if (collection is null)
            {
                continue;
            }

            var name = (string?)collection.GetType().GetProperty("Name")?.GetValue(collection)
                ?? type.GetCustomAttributesData().First(a => a.AttributeType == typeof(CollectionAttribute)).ConstructorArguments[0].Value as string;
            var category = CategoriesOf(type).SingleOrDefault();
            var expected = name == DurableClusterCollection.Name ? Category.Durable : Category.Cluster;
            if (category != expected)
            {
                wrong.Add($"{type.Name} (collection {name}) is '{category}', expected '{expected}'");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("; ", wrong));
    }

    [Fact]
    public void The_checks_see_the_test_classes() =>
        Assert.Contains(TestClasses(), type => type == typeof(TestCategoryTests));

    private static IEnumerable<Type> TestClasses() =>
        typeof(TestCategoryTests).Assembly.GetTypes().Where(type => !type.IsAbstract && type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            .Any(method => method.GetCustomAttributes<FactAttribute>(inherit: true).Any()));

    private static List<string> CategoriesOf(Type type) =>
        type.GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(TraitAttribute) && (string?)a.ConstructorArguments[0].Value == Category.Name)
            .Select(a => (string)a.ConstructorArguments[1].Value!)
            .ToList();
}
