namespace Switchboard.Grains.Hosting;

/// <summary>The names grains use for their storage providers, in one place.</summary>
public static class StorageNames
{
    /// <summary>The grain storage provider for user and group state.</summary>
    public const string Grains = "switchboard";
}
