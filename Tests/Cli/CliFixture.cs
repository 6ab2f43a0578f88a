using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cli;

/// <summary>
/// The real silo host (dev tokens on, as the embedded default) and the real gateway in front of it (real TLS, its
/// self-signed certificate), for the CLI's tests: each runs the CLI against one or the other by URL.
/// </summary>
public sealed class CliFixture : IAsyncLifetime
{
    public SiloHostFactory Silo { get; } = new();

    public GatewayFactory Gateway { get; private set; } = null!;

    /// <summary>The silo's http base address, as a <c>--server</c> value.</summary>
    public string SiloUrl { get; private set; } = null!;

    /// <summary>The gateway's https base address, as a <c>--server</c> value (needs <c>--insecure</c>).</summary>
    public string GatewayUrl { get; private set; } = null!;

    public ApiClient Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        SiloUrl = Silo.BaseAddress.ToString();
        Api = new ApiClient(Silo.BaseAddress);
        Gateway = new GatewayFactory(Silo.BaseAddress);
        GatewayUrl = Gateway.BaseAddress.ToString();
        await Wait.UntilAsync(() => Gateway.Destinations.Count == 1, "the gateway publishes the silo");
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        await Gateway.DisposeAsync();
        await Silo.DisposeAsync();
    }

    /// <summary>The <c>--server</c> arguments for the silo or (with <c>--insecure</c>) the gateway.</summary>
    public string[] Server(bool viaGateway) => viaGateway ? ["--server", GatewayUrl, "--insecure"] : ["--server", SiloUrl];

    public static string NewId(string prefix) => SiloHostFixture.NewId(prefix);
}

[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<CliFixture>
{
    public const string Name = "cli";
}
