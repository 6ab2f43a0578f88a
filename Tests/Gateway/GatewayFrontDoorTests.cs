using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Switchboard.Gateway.Diagnostics;
using Switchboard.Gateway.Hosting;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Gateway;

/// <summary>
/// The gateway's front door: per-address limits answered with 429 before anything reaches a silo, TLS 1.2 and
/// later only, HSTS, and a certificate renewed on disk without a restart or a dropped socket.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(RestrictedHostCollection.Name)]
public sealed class GatewayFrontDoorTests(RestrictedHostFixture host)
{
    private const string Rejections = "switchboard.gateway.rejections";

    [Fact]
    public async Task Upgrades_over_the_per_address_rate_are_refused_with_429_and_Retry_After_by_the_gateway_itself()
    {
        await using var gateway = await StartAsync(new() { ["Switchboard:Gateway:UpgradesPerSecond"] = "1", ["Switchboard:Gateway:UpgradeBurst"] = "2" });
        using var rejections = new MeterCounter(gateway.Services, GatewayMetrics.MeterName, Rejections, ("limit", "upgrades"));
        await using var first = await gateway.ConnectAsync(TestTokens.Mint(SiloHostFixture.NewId("door")));
        await using var second = await gateway.ConnectAsync(TestTokens.Mint(SiloHostFixture.NewId("door")));

        // A bad token: the token check would answer 401, so a 429 is the limit's answer, given before any other check.
        var refused = await UntilRefusedAsync(gateway, "not-a-token", attempts: 5);
        Assert.Equal(429, refused.Status);
        Assert.True(int.Parse(refused.RetryAfter!, System.Globalization.CultureInfo.InvariantCulture) >= 1, $"Retry-After: {refused.RetryAfter}");
        Assert.True(rejections.Total >= 1);

        // The bucket refills: a later upgrade passes the limit again, and the open sockets never noticed.
        await Wait.UntilAsync(async () => await SocketClient.TryConnectStatusAsync(gateway.BaseAddress, "not-a-token", certificateValidation: gateway.ValidateCertificate) == 401, "an upgrade passes the limit again (401 from the token check behind it)");
        await first.PingAsync();
        await second.PingAsync();
    }

    [Fact]
    public async Task Open_sockets_over_the_per_address_limit_are_refused_with_429_and_a_closed_one_frees_its_place()
    {
        await using var gateway = await StartAsync(new() { ["Switchboard:Gateway:OpenSocketsPerAddress"] = "2" });
        using var rejections = new MeterCounter(gateway.Services, GatewayMetrics.MeterName, Rejections, ("limit", "sockets"));
        var first = await gateway.ConnectAsync(TestTokens.Mint(SiloHostFixture.NewId("door")));
        await using var second = await gateway.ConnectAsync(TestTokens.Mint(SiloHostFixture.NewId("door")));

        var refused = await UpgradeAsync(gateway, TestTokens.Mint(SiloHostFixture.NewId("door")));
        Assert.Equal(429, refused.Status);
        Assert.NotNull(refused.RetryAfter);
        Assert.Equal(1, rejections.Total);

        await first.DisposeAsync();
        await Wait.UntilAsync(async () => (await UpgradeAsync(gateway, TestTokens.Mint(SiloHostFixture.NewId("door")))).Status == 101, "a socket fits again once one closed");
        await second.PingAsync();
    }

    [Fact]
    public async Task Requests_over_the_per_address_rate_get_429_problem_details_and_health_is_never_limited()
    {
        await using var gateway = await StartAsync(new() { ["Switchboard:Gateway:RequestsPerSecond"] = "1", ["Switchboard:Gateway:RequestBurst"] = "2" });
        using var http = Http(gateway);
        var token = TestTokens.Mint(SiloHostFixture.NewId("door"));
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 6 && refused is null; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/users/{SiloHostFixture.NewId("door")}/conversations");
            request.Headers.Authorization = new("Bearer", token);
            var response = await http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            Assert.NotNull(refused.Headers.RetryAfter?.Delta);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Protocol.AssertProblem((429, problem), 429, "rate_limited");
        }

        for (var i = 0; i < 10; i++)
        {
            using var live = await http.GetAsync("/health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
    }

    [Fact]
    public async Task Only_TLS_1_2_and_1_3_handshakes_succeed()
    {
        await using var gateway = await StartAsync([]);
        var endpoint = gateway.BaseAddress;

        Assert.Equal(SslProtocols.Tls13, await HandshakeAsync(endpoint, SslProtocols.Tls13));
        Assert.Equal(SslProtocols.Tls12, await HandshakeAsync(endpoint, SslProtocols.Tls12));
#pragma warning disable SYSLIB0039 // the obsolete protocols are what the test offers
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(endpoint, SslProtocols.Tls11));
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(endpoint, SslProtocols.Tls));
#pragma warning restore SYSLIB0039

        // The OS may refuse TLS 1.0/1.1 on its own: the gateway's own setting is asserted too, for every https endpoint.
        Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, HttpsDefaultsOf(gateway));
    }

    [Fact]
    public async Task Https_responses_carry_HSTS_without_preload_for_named_hosts()
    {
        await using var gateway = await StartAsync([]);
        using var http = Http(gateway);

        using var named = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        named.Headers.Host = "switchboard.example.com";
        using var response = await http.SendAsync(named);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("max-age=15552000", Assert.Single(response.Headers.GetValues("Strict-Transport-Security")));

        await using var shorter = await StartAsync(new() { ["Switchboard:Gateway:HstsMaxAge"] = "1.00:00:00", ["Switchboard:Gateway:HstsIncludeSubDomains"] = "true" });
        using var http2 = Http(shorter);
        using var again = new HttpRequestMessage(HttpMethod.Get, "/api/users/x/conversations");
        again.Headers.Host = "switchboard.example.com";
        using var unauthorized = await http2.SendAsync(again);
        Assert.Equal("max-age=86400; includeSubDomains", Assert.Single(unauthorized.Headers.GetValues("Strict-Transport-Security")));
    }

    [Fact]
    public async Task A_certificate_file_replaced_on_disk_is_presented_to_new_handshakes_while_open_sockets_stay_open()
    {
        using var certificateA = GatewayTls.CreateSelfSigned();
        using var certificateB = GatewayTls.CreateSelfSigned();
        var directory = Directory.CreateTempSubdirectory("sb-gateway-renew-").FullName;
        var (certPath, keyPath) = (Path.Combine(directory, "tls.crt"), Path.Combine(directory, "tls.key"));
        await WritePemAsync(certificateA, certPath, keyPath);
        try
        {
            await using var gateway = await StartAsync(new()
            {
                ["Kestrel:Endpoints:Https:Url"] = "https://127.0.0.1:0",
                ["Kestrel:Endpoints:Https:Certificate:Path"] = certPath,
                ["Kestrel:Endpoints:Https:Certificate:KeyPath"] = keyPath,
            });
            var endpoint = gateway.BaseAddress;
            Assert.Equal(certificateA.Thumbprint, await PresentedThumbprintAsync(endpoint));
            await using var socket = await SocketClient.ConnectAsync(endpoint, TestTokens.Mint(SiloHostFixture.NewId("renew")), certificateValidation: (_, _, _, _) => true);
            await socket.PingAsync();

            // Renewed as certbot and friends do it: new files moved over the old ones.
            await WritePemAsync(certificateB, certPath + ".new", keyPath + ".new");
            File.Move(keyPath + ".new", keyPath, overwrite: true);
            File.Move(certPath + ".new", certPath, overwrite: true);

            await Wait.UntilAsync(async () => await PresentedThumbprintAsync(endpoint) == certificateB.Thumbprint, "a new handshake presents the renewed certificate", TimeSpan.FromSeconds(30));
            await socket.PingAsync();
            Assert.Equal(WebSocketState.Open, socket.State);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task<GatewayFactory> StartAsync(Dictionary<string, string?> settings)
    {
        var gateway = new GatewayFactory(host.BaseAddress, settings);
        await Wait.UntilAsync(() => gateway.Destinations.Count == 1, "the gateway publishes the silo");
        return gateway;
    }

    private static HttpClient Http(GatewayFactory gateway) =>
        new(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = gateway.ValidateCertificate } }) { BaseAddress = gateway.BaseAddress };

    private static SslProtocols HttpsDefaultsOf(GatewayFactory gateway)
    {
        // What Kestrel gives any https endpoint, including those from Kestrel:Endpoints: the defaults are applied before the endpoint's own settings.
        var kestrel = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>>(gateway.Services).Value;
        var protocols = SslProtocols.None;
        kestrel.Listen(IPAddress.Loopback, 0, listen => Microsoft.AspNetCore.Hosting.ListenOptionsHttpsExtensions.UseHttps(listen, https =>
        {
            protocols = https.SslProtocols;
            https.ServerCertificate = gateway.Certificate;
        }));
        return protocols;
    }

    private static async Task<(int Status, string? RetryAfter)> UpgradeAsync(GatewayFactory gateway, string token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.RemoteCertificateValidationCallback = gateway.ValidateCertificate;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        var uri = new UriBuilder(gateway.BaseAddress) { Scheme = "wss", Path = "/ws" }.Uri;
        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }

        var retryAfter = socket.HttpResponseHeaders?.TryGetValue("Retry-After", out var values) == true ? values.FirstOrDefault() : null;
        return ((int)socket.HttpStatusCode, retryAfter);
    }

    private static async Task<(int Status, string? RetryAfter)> UntilRefusedAsync(GatewayFactory gateway, string token, int attempts)
    {
        var last = (Status: 0, RetryAfter: (string?)null);
        for (var i = 0; i < attempts && last.Status != 429; i++)
        {
            last = await UpgradeAsync(gateway, token);
        }

        return last;
    }

    private static async Task<SslProtocols> HandshakeAsync(Uri endpoint, SslProtocols protocols)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint.Host, endpoint.Port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = protocols });
        return tls.SslProtocol;
    }

    private static async Task<string?> PresentedThumbprintAsync(Uri endpoint)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint.Host, endpoint.Port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
        return tls.RemoteCertificate is { } presented ? presented.GetCertHashString() : null;
    }

    private static async Task WritePemAsync(X509Certificate2 certificate, string certPath, string keyPath)
    {
        await File.WriteAllTextAsync(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
    }
}
