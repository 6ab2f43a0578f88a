namespace Switchboard.Issuer;

/// <summary>
/// A development token issuer for the local cluster: an ES256 key, its JWKS and OpenID Connect discovery document, and
/// a token endpoint that mints a token for anyone who asks. It listens on loopback only and refuses anything else.
/// </summary>
public static class IssuerProgram
{
    public static async Task Main(string[] args)
    {
        // Settings files sit beside the binary, wherever it is started from (dotnet run, cluster.sh, a test).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddTokenIssuer();

        await using var app = builder.Build();
        app.MapTokenIssuer();
        await app.StartOnLoopbackOnlyAsync();
        await app.WaitForShutdownAsync();
    }
}
