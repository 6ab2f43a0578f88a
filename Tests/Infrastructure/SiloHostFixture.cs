namespace Switchboard.Tests.Infrastructure;

/// <summary>One real silo host shared by the socket and REST tests; every test uses fresh user and group ids.</summary>
public sealed class SiloHostFixture : IAsyncLifetime
{
    public SiloHostFactory Factory { get; } = new();

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
