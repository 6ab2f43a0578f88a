using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;
using Switchboard.Tests.Infrastructure;
using Switchboard.Tests.Infrastructure.Servers;

namespace Switchboard.Tests.Cluster;

/// <summary>
/// MariaDB that accepts TLS connections only (<c>require_secure_transport</c>), as the reference deployment runs
/// it: the TLS options of <c>ConnectionStrings:MySql</c> reach the message log and its health check unchanged.
/// </summary>
[Trait(Category.Name, Category.Durable)]
[Collection(DurableClusterCollection.Name)]
public sealed class MariaDbTlsTests
{
    [Fact]
    public async Task The_message_log_and_its_health_check_use_the_TLS_options_of_the_connection_string()
    {
        using var ca = new TestCertificateAuthority("data");
        using var otherCa = new TestCertificateAuthority("other");
        var certificate = ca.Issue("data");
        await using var server = await MariaDbServer.StartAsync(
            $"--ssl-cert={certificate.CertificatePath}", $"--ssl-key={certificate.KeyPath}", $"--ssl-ca={ca.CaPath}", "--require-secure-transport=ON");
        var plain = await server.CreateDatabaseAsync($"sb_{Guid.NewGuid():N}"[..16]);

        // VerifyFull: the chain to the internal CA, and 127.0.0.1 among the certificate's names.
        await using (var log = Log($"{plain};SslMode=VerifyFull;SslCa={ca.CaPath}"))
        {
            var conversation = ConversationId.ForGroup(new GroupId($"tls-{Guid.NewGuid():N}"));
            Recipient.TryParse(conversation.Value, out var to);
            await log.AppendAsync(new StoredMessage(conversation, 1, new UserId("alice"), to, $"r-{Guid.NewGuid():N}", Encoding.UTF8.GetBytes("{}"), DateTimeOffset.UtcNow));
            Assert.Equal(1, await log.GetLatestSeqAsync(conversation));
            await WaitForHealthAsync($"{plain};SslMode=VerifyFull;SslCa={ca.CaPath}", HealthStatus.Healthy, "reachable");
        }

        // Without TLS the server refuses; with a CA that did not sign its certificate the client does.
        await using (var log = Log($"{plain};SslMode=None"))
        {
            await Assert.ThrowsAnyAsync<Exception>(async () => await log.GetLatestSeqAsync(ConversationId.ForGroup(new GroupId("any"))));
        }

        await WaitForHealthAsync($"{plain};SslMode=None", HealthStatus.Degraded, "unreachable");
        await WaitForHealthAsync($"{plain};SslMode=VerifyCA;SslCa={otherCa.CaPath}", HealthStatus.Degraded, "unreachable");
    }

    private static MariaDbMessageLog Log(string connectionString) =>
        new(Options.Create(new MessageLogOptions { ConnectionString = connectionString, Writers = 1, MaxBatch = 8, Retention = TimeSpan.FromDays(1) }), NullLogger<MariaDbMessageLog>.Instance);

    /// <summary>The check answers within 250 ms and says "slow" while a handshake runs: ask until it has its answer.</summary>
    private static async Task WaitForHealthAsync(string connectionString, HealthStatus status, string detail)
    {
        var check = new MessageLogHealthCheck(Options.Create(new MessageLogOptions { ConnectionString = connectionString }));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var result = await check.CheckHealthAsync(new HealthCheckContext());
            if (result.Status == status && result.Description!.Contains(detail, StringComparison.Ordinal))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the health check says {result.Status} ({result.Description}), not {status} ({detail})");
            await Task.Delay(50);
        }
    }
}
