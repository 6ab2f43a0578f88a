namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// A real silo host with settings of its own (tiny limits and the like), for one collection of tests.
/// Subclass it per topology and give the subclass its own <see cref="CollectionDefinitionAttribute"/>.
/// </summary>
public abstract class HostFixture(IDictionary<string, string?> settings) : IAsyncLifetime
{
    public SiloHostFactory Factory { get; } = new(settings);

    public Uri BaseAddress { get; private set; } = null!;

    public ApiClient Api { get; private set; } = null!;

    public Task InitializeAsync()
    {
        BaseAddress = Factory.BaseAddress;
        Api = new ApiClient(BaseAddress);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        await Factory.DisposeAsync();
    }

    /// <summary>Connects with a token minted by <see cref="TestTokens"/> (these hosts may have dev tokens off).</summary>
    public Task<SocketClient> ConnectAsync(string user, string role = "student", string? origin = null) =>
        SocketClient.ConnectAsync(BaseAddress, TestTokens.Mint(user, role), origin: origin);
}
