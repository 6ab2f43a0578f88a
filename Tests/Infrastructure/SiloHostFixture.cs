namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// One real silo host shared by the socket and REST tests; every test uses fresh user and group ids. In a
/// conformance run (<see cref="TestTargets"/>) the same tests run against a running cluster instead, and
/// each new connection goes to the next silo in turn, so they land on all of them.
/// </summary>
public sealed class SiloHostFixture : IAsyncLifetime
{
    private readonly IReadOnlyList<Uri> _targets = TestTargets.Urls;
    private int _next = -1;
    private Uri _local = null!;

    /// <summary>The in-process host; null in a conformance run.</summary>
    public SiloHostFactory? Factory { get; } = TestTargets.IsExternal ? null : new();

    /// <summary>Where the next socket goes: the in-process host, or the next silo of the cluster under test.</summary>
    public Uri BaseAddress => Factory is null ? _targets[(int)((uint)Interlocked.Increment(ref _next) % _targets.Count)] : _local;

    public ApiClient Api { get; private set; } = null!;

    /// <summary>Tokens the host trusts; with dev tokens off (a secure cluster) <see cref="Api"/> gets its tokens here too.</summary>
    public ClusterTokens Tokens { get; private set; } = null!;

    /// <summary>Whether the host serves <c>POST /api/dev/token</c>: not when the cluster under test is in secure mode.</summary>
    public bool DevTokens => !Tokens.FromIssuer;

    public async Task InitializeAsync()
    {
        _local = Factory?.BaseAddress ?? _targets[0];
        Tokens = await ClusterTokens.OpenAsync();
        Api = new ApiClient(Factory is null ? _targets[0] : _local, tokens: Tokens.FromIssuer ? (user, role) => Tokens.IssueAsync(user, role) : null);
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        Tokens.Dispose();
        if (Factory is not null)
        {
            await Factory.DisposeAsync();
        }
    }

    /// <summary>A fresh id with a readable prefix.</summary>
    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 64)];

    public async Task<SocketClient> ConnectAsync(string user, string role = "student") =>
        await SocketClient.ConnectAsync(BaseAddress, await Api.TokenAsync(user, role));
}

[CollectionDefinition(Name)]
public sealed class SiloHostCollection : ICollectionFixture<SiloHostFixture>
{
    public const string Name = "silo host";
}
