namespace Switchboard.Bench.Load;

/// <summary>Walks <c>--name value</c> command-line options: each name in turn, and the value that follows it.</summary>
internal sealed class OptionCursor(IReadOnlyList<string> args, int start = 0)
{
    private int _next = start;

    /// <summary>The option being read.</summary>
    public string Name { get; private set; } = "";

    /// <summary>The last value taken.</summary>
    public string Last { get; private set; } = "";

    public bool MoveNext()
    {
        if (_next >= args.Count)
        {
            return false;
        }

        Name = args[_next++];
        return true;
    }

    /// <summary>Takes the value that follows the option's name.</summary>
    public string Value() => _next < args.Count ? Last = args[_next++] : throw new UsageException($"{Name} needs a value");
}
