using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;
using Switchboard.Cluster;
using Switchboard.Cluster.Security;
using Switchboard.Gateway.Hosting;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Cluster;

/// <summary>
/// Orleans traffic with <c>InternalTls</c> on: silo processes and Orleans clients (the gateway's, a plain one)
/// with certificates from a CA made here; a peer with a certificate from another CA, or none, is refused.
/// </summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class InternalTlsTests(DurableClusterFixture fixture) : IDisposable
{
    private const string SiloSection = "Switchboard__Silo__InternalTls";
    // How long a refused peer is given: a silo normally is ready within seconds, a client connects within one.
    private static readonly TimeSpan RefusalDeadline = TimeSpan.FromSeconds(20);

    private readonly TestCertificateAuthority _ca = new("internal");
    private readonly TestCertificateAuthority _otherCa = new("other");

    [Fact]
    public async Task Silos_with_certificates_from_the_internal_CA_form_a_cluster_and_the_gateway_reaches_both()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var one = await cluster.StartSiloAsync("silo-1", _ca.Issue("silo-1").Settings(SiloSection));
        var two = await cluster.StartSiloAsync("silo-2", _ca.Issue("silo-2").Settings(SiloSection));
        using var api = new ApiClient(one.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");

        // Each silo says which certificate it presents, and that this one (valid 12 h) is due for renewal.
        await Wait.UntilAsync(() => File.ReadAllText(one.LogFile) is var log
            && log.Contains("Internal TLS on: certificate CN=silo-1", StringComparison.Ordinal)
            && log.Contains("Internal TLS certificate CN=silo-1 expires", StringComparison.Ordinal), "silo-1 logs its internal TLS certificate");

        await using var a = await SocketClient.ConnectAsync(one.BaseAddress, await api.TokenAsync(alice));
        await using var b = await SocketClient.ConnectAsync(two.BaseAddress, await api.TokenAsync(bob));
        var toBob = await a.SendMessageAsync($"user:{bob}", new { text = "across silos, over TLS" });
        Assert.Equal("ack", toBob.Type());
        await b.WaitForMessageAsync(toBob.Str("conversation")!, 1);

        // The gateway's Orleans client, with its own certificate from the same CA, finds both silos.
        await using var gateway = new GatewayFactory(cluster, _ca.Issue("gateway").Settings(GatewayInternalTlsOptions.SectionName, ":"));
        await gateway.WaitForDestinationsAsync(["silo-1", "silo-2"]);
        await using var viaGateway = await gateway.ConnectToNodeAsync(await api.TokenAsync(alice), "silo-2");
        var again = await viaGateway.SendMessageAsync($"user:{bob}", new { text = "through the gateway" });
        Assert.Equal("ack", again.Type());
        await b.WaitForMessageAsync(toBob.Str("conversation")!, 2);
    }

    [Fact]
    public async Task A_silo_with_a_certificate_from_another_CA_does_not_join()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var one = await cluster.StartSiloAsync("silo-1", _ca.Issue("silo-1").Settings(SiloSection));

        var refused = await Assert.ThrowsAnyAsync<Exception>(() =>
            cluster.StartSiloAsync("intruder", _otherCa.Issue("intruder").Settings(SiloSection), RefusalDeadline));
        Assert.IsNotType<FileNotFoundException>(refused);

        using var api = new ApiClient(one.BaseAddress);
        var (status, silos) = await api.GetAsync("/api/cluster/silos", await api.TokenAsync(SiloHostFixture.NewId("ops"), "admin"));
        Assert.Equal(200, status);
        Assert.Equal(["silo-1"], silos.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task An_Orleans_client_connects_only_with_a_certificate_from_the_internal_CA()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        await cluster.StartSiloAsync("silo-1", _ca.Issue("silo-1").Settings(SiloSection));

        using (var client = await StartClientAsync(cluster, Options(_ca.Issue("client"))))
        {
            var silos = await client.Services.GetRequiredService<IClusterClient>().GetGrain<IClusterDirectoryGrain>(0).GetHttpEndpointsAsync();
            Assert.Equal(["silo-1"], silos.Select(s => s.Name));
            await client.StopAsync();
        }

        // A refused client keeps retrying rather than failing: both are given the deadline, side by side.
        var stranger = Assert.ThrowsAnyAsync<Exception>(() => StartClientAsync(cluster, Options(_otherCa.Issue("stranger"))));
        var plaintext = Assert.ThrowsAnyAsync<Exception>(() => StartClientAsync(cluster, new GatewayInternalTlsOptions()));
        await Task.WhenAll(stranger, plaintext);
    }

    [Fact]
    public async Task The_silo_and_gateway_ports_speak_only_TLS_with_the_silos_certificate()
    {
        await using var cluster = await fixture.CreateClusterAsync();
        var certificate = _ca.Issue("silo-1");
        var siloPort = ChildProcesses.FreePort();
        var gatewayPort = ChildProcesses.FreePort();
        var settings = certificate.Settings(SiloSection);
        settings["Switchboard__Silo__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture);
        settings["Switchboard__Silo__GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture);
        await cluster.StartSiloAsync("silo-1", settings);

        foreach (var port in new[] { siloPort, gatewayPort })
        {
            // A TLS handshake (no client certificate) gets as far as the server's certificate: the internal CA's.
            Assert.Equal(certificate.Sha256, await ServerCertificateAsync(port));

            // Plain bytes, as an Orleans peer without TLS sends them, get no plain answer: a TLS alert or a close.
            var answer = await PlaintextAnswerAsync(port);
            Assert.True(answer.Length == 0 || answer[0] == 0x15, $"port {port} answered plaintext with {Convert.ToHexString(answer)}");
        }
    }

    public void Dispose()
    {
        _ca.Dispose();
        _otherCa.Dispose();
    }

    private static GatewayInternalTlsOptions Options(HostCertificate certificate) => new()
    {
        Enabled = true,
        CertificatePath = certificate.CertificatePath,
        KeyPath = certificate.KeyPath,
        CaPath = certificate.CaPath,
    };

    /// <summary>A plain Orleans client of the cluster, started (connected to a silo) within the deadline, or failing.</summary>
    private static async Task<IHost> StartClientAsync(DurableCluster cluster, InternalTlsOptions tls)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(cluster.RedisConnectionString));
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = "switchboard";
            });
            client.UseInternalTls(tls);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync().WaitAsync(RefusalDeadline);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    private static async Task<string> ServerCertificateAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        string? seen = null;
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            seen = certificate is null ? null : new X509Certificate2(certificate).GetCertHashString(HashAlgorithmName.SHA256);
            return true;
        });
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, deadline.Token);
        }
        catch (Exception exception) when (exception is IOException or System.Security.Authentication.AuthenticationException && seen is not null)
        {
            // TLS 1.2 can fail the handshake once the server finds no client certificate; the server's was seen first.
        }

        return seen ?? throw new InvalidOperationException($"port {port} presented no certificate");
    }

    private static async Task<byte[]> PlaintextAnswerAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var stream = tcp.GetStream();
        var plain = new byte[64];
        plain[0] = 60;
        await stream.WriteAsync(plain);
        var buffer = new byte[256];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            var read = await stream.ReadAsync(buffer, deadline.Token);
            return buffer[..read];
        }
        catch (IOException)
        {
            return [];
        }
    }
}
