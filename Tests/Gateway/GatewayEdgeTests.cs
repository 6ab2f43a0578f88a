using System.Diagnostics;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Switchboard.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Switchboard.Tests.Gateway;

/// <summary>What the gateway does at its edges: Origins, idle sockets, shutdown, and what it never logs.</summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class GatewayEdgeTests(DurableClusterFixture fixture, ITestOutputHelper output)
{
    private const string AllowedOrigin = "https://app.example.com";

    [Fact]
    public async Task An_origin_not_on_the_allow_list_is_refused_with_403_at_the_upgrade_and_an_allowed_one_connects()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await cluster.StartSiloAsync("silo-1");
        await using var gateway = new GatewayFactory(cluster, new Dictionary<string, string?> { ["Switchboard:Gateway:AllowedOrigins:0"] = AllowedOrigin });
        await gateway.WaitForDestinationsAsync(["silo-1"]);
        using var api = gateway.Api();
        var token = await api.TokenAsync(SiloHostFixture.NewId("alice"));

        Assert.Equal(403, await SocketClient.TryConnectStatusAsync(gateway.BaseAddress, token, origin: "https://evil.example.com", certificateValidation: gateway.ValidateCertificate));

        // The refusal is the gateway's own problem details (the silo would answer 401 to a tokenless upgrade).
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ws");
        request.Headers.Add("Origin", "https://evil.example.com");
        using var refused = await api.Http.SendAsync(request);
        var problem = System.Text.Json.JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Protocol.AssertProblem(((int)refused.StatusCode, problem), 403, "forbidden");

        await using var allowed = await SocketClient.ConnectAsync(gateway.BaseAddress, token, origin: AllowedOrigin, certificateValidation: gateway.ValidateCertificate);
        await allowed.PingAsync();
        await using var noOrigin = await gateway.ConnectAsync(token);
        await noOrigin.PingAsync();
    }

    [Fact]
    public async Task A_certificate_from_pem_files_in_the_standard_kestrel_configuration_serves_https()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        using var certificate = Switchboard.Gateway.Hosting.GatewayTls.CreateSelfSigned();
        var directory = Directory.CreateTempSubdirectory("sb-gateway-tls-").FullName;
        var (certPath, keyPath) = (Path.Combine(directory, "tls.crt"), Path.Combine(directory, "tls.key"));
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        try
        {
            await using var gateway = new GatewayFactory(cluster, new Dictionary<string, string?>
            {
                ["Kestrel:Endpoints:Https:Url"] = "https://127.0.0.1:0",
                ["Kestrel:Endpoints:Https:Certificate:Path"] = certPath,
                ["Kestrel:Endpoints:Https:Certificate:KeyPath"] = keyPath,
            });
            var expected = certificate.GetCertHash();
            using var http = new HttpClient(new SocketsHttpHandler
            {
                SslOptions = new System.Net.Security.SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHash().AsSpan().SequenceEqual(expected),
                },
            });

            // The configured certificate is the one presented (the self-signed one is not made), over HTTP/2 too.
            using var live = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.BaseAddress, "/health/live")) { Version = System.Net.HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact });
            Assert.Equal(System.Net.HttpStatusCode.OK, live.StatusCode);
            Assert.Equal(2, live.Version.Major);
            Assert.Null(gateway.Services.GetService<Switchboard.Gateway.Hosting.GatewayTls>());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task An_idle_socket_outlives_a_short_proxy_activity_timeout_because_the_silo_pings_it()
    {
        await using var cluster = await fixture.CreateClusterAsync();

        // One silo pings every second, one keeps the default (20 s): the gateway cuts sockets idle for 3 s.
        await cluster.StartSiloAsync("pinging", new Dictionary<string, string?> { ["Switchboard__WebSockets__KeepAliveInterval"] = "00:00:01" });
        await cluster.StartSiloAsync("quiet");
        var timeout = TimeSpan.FromSeconds(3);
        await using var gateway = new GatewayFactory(cluster, new Dictionary<string, string?> { ["Switchboard:Gateway:ActivityTimeout"] = timeout.ToString() });
        await gateway.WaitForDestinationsAsync(["pinging", "quiet"]);
        using var api = gateway.Api();

        await using var kept = await gateway.ConnectToNodeAsync(await api.TokenAsync(SiloHostFixture.NewId("alice")), "pinging");
        await using var cut = await gateway.ConnectToNodeAsync(await api.TokenAsync(SiloHostFixture.NewId("bob")), "quiet");
        var opened = Stopwatch.GetTimestamp();

        // Without pings the proxy's timeout does cut an idle socket: the timeout really is short.
        await Task.WhenAny(cut.Closed).WaitAsync(TimeSpan.FromSeconds(15));
        var cutAfter = Stopwatch.GetElapsedTime(opened);
        Assert.NotEqual(WebSocketState.Open, cut.State);

        // With pings, the idle socket is still open well past four timeouts, and answers.
        var idle = timeout * 4;
        var closedMeanwhile = await Task.WhenAny(kept.Closed, Task.Delay(idle - Stopwatch.GetElapsedTime(opened))) == kept.Closed;
        Assert.False(closedMeanwhile, $"the pinged socket closed after {Stopwatch.GetElapsedTime(opened).TotalSeconds:F1} s");
        await kept.PingAsync();
        output.WriteLine($"ActivityTimeout {timeout.TotalSeconds} s: the unpinged socket was cut after {cutAfter.TotalSeconds:F2} s; the pinged one (1 s keep-alive) was open and answered after {Stopwatch.GetElapsedTime(opened).TotalSeconds:F2} s idle");
    }

    [Fact]
    public async Task Stopping_the_gateway_with_open_sockets_takes_seconds_not_its_shutdown_timeout()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await cluster.StartSiloAsync("silo-1");

        // A long shutdown timeout, so only the gateway's aborting of proxied sockets can make the stop quick.
        var gateway = new GatewayFactory(cluster, new Dictionary<string, string?> { ["Switchboard:Gateway:ShutdownTimeout"] = "00:00:30" });
        await gateway.WaitForDestinationsAsync(["silo-1"]);
        SocketClient a;
        SocketClient b;
        using (var api = gateway.Api())
        {
            a = await gateway.ConnectAsync(await api.TokenAsync(SiloHostFixture.NewId("alice")));
            b = await gateway.ConnectAsync(await api.TokenAsync(SiloHostFixture.NewId("bob")));
        }

        await using (a)
        await using (b)
        {
            var stopping = Stopwatch.GetTimestamp();
            await gateway.DisposeAsync();
            var stopped = Stopwatch.GetElapsedTime(stopping);
            output.WriteLine($"gateway stop with 2 open sockets: {stopped.TotalSeconds:F2} s (ShutdownTimeout 30 s)");
            Assert.True(stopped < TimeSpan.FromSeconds(15), $"stopping took {stopped.TotalSeconds:F1} s");

            // The clients see their sockets end, and can reconnect elsewhere and resume.
            await Task.WhenAny(Task.WhenAll(a.Closed, b.Closed)).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotEqual(WebSocketState.Open, a.State);
            Assert.NotEqual(WebSocketState.Open, b.State);
        }
    }

    [Fact]
    public async Task An_access_token_in_the_query_string_never_reaches_the_gateways_logs()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await cluster.StartSiloAsync("silo-1");

        // Everything at Debug, so only the gateway's own filters keep the token out.
        await using var gateway = new GatewayFactory(cluster, new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Debug",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug",
            ["Logging:LogLevel:Yarp"] = "Debug",
        });
        await gateway.WaitForDestinationsAsync(["silo-1"]);
        using var api = gateway.Api();
        var alice = SiloHostFixture.NewId("alice");
        var token = await api.TokenAsync(alice);

        await using (var socket = await SocketClient.ConnectAsync(gateway.BaseAddress, token, useQuery: true, certificateValidation: gateway.ValidateCertificate))
        {
            await socket.PingAsync();
        }

        Assert.Equal(401, await SocketClient.TryConnectStatusAsync(gateway.BaseAddress, token + "x", useQuery: true, certificateValidation: gateway.ValidateCertificate));
        var (status, _) = await api.GetAsync($"/api/users/{alice}/presence?access_token={Uri.EscapeDataString(token)}", null);
        output.WriteLine($"REST with ?access_token=: HTTP {status}");
        using (var page = await api.Http.GetAsync($"/dashboard?access_token={Uri.EscapeDataString(token)}"))
        {
            output.WriteLine($"dashboard with ?access_token=: HTTP {(int)page.StatusCode}");
        }

        // The capture works (it holds the gateway's own lines, and request-level debug lines) ...
        var lines = gateway.Logs.Lines.ToList();
        Assert.Contains(lines, l => l.Contains("Destination added: silo-1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Debug Microsoft.AspNetCore", StringComparison.Ordinal));
        output.WriteLine($"{lines.Count} log lines captured");

        // ... and no line holds the token, whole or its signature.
        var signature = token[(token.LastIndexOf('.') + 1)..];
        Assert.DoesNotContain(lines, l => l.Contains(signature, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("access_token", StringComparison.OrdinalIgnoreCase));
    }
}
