using System.Net;
using System.Net.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Switchboard.Cluster.Security;
using Switchboard.Gateway.Hosting;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Gateway;

/// <summary>
/// The gateway's TLS connections free OpenSSL's record buffers while idle: it reaches into .NET's SslStream, so a
/// runtime that lays it out otherwise must fail here, not silently cost every socket 13 KiB again.
/// </summary>
[Trait(Category.Name, Category.Fast)]
public sealed class IdleTlsBuffersTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_connection_after_its_handshake_has_the_release_mode_exactly_when_asked(bool release)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Fail("The gateway's TLS is OpenSSL's on Linux, where it runs in production and in CI.");
        }

        using var certificate = GatewayTls.CreateSelfSigned();
        using var logs = new CapturedLogs();
        var server = new TaskCompletionSource<SslStream>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.UseHttps(certificate);
            if (release)
            {
                listen.UseIdleTlsBufferRelease(logs.CreateLogger("tls"));
            }

            listen.Use(next => context =>
            {
                server.TrySetResult(context.Features.Get<ISslStreamFeature>()!.SslStream);
                return next(context);
            });
        }));
        await using var app = builder.Build();
        app.MapGet("/", () => "ok");
        await app.StartAsync();

        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var client = new HttpClient(handler);
        Assert.Equal("ok", await client.GetStringAsync(new Uri(app.Urls.Single())));

        var stream = await server.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(release, IdleTlsBuffers.IsReleasing(stream));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("[7003]", StringComparison.Ordinal));
    }
}
