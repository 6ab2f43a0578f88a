using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Switchboard.Persistence.MariaDb;

/// <summary>
/// MariaDB reachability as a detail of <c>/health/ready</c>: Degraded (still HTTP 200), never Unhealthy, so a
/// database outage does not turn every silo unready at once and make the gateway refuse the whole cluster.
/// </summary>
public sealed class MessageLogHealthCheck(IOptions<MessageLogOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var builder = new MySqlConnectionStringBuilder(options.Value.ConnectionString) { ConnectionTimeout = 2, DefaultCommandTimeout = 2 };
        try
        {
            await using var connection = new MySqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new MySqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy("mariadb reachable");
        }
        catch (Exception exception) when (exception is MySqlException or InvalidOperationException or TimeoutException or OperationCanceledException)
        {
            return HealthCheckResult.Degraded($"mariadb unreachable: {exception.GetType().Name}");
        }
    }
}
