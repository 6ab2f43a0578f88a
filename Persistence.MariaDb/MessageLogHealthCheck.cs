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
    /// <summary>
    /// How long a readiness probe waits for the database. A stalled database must not make the probe itself
    /// slower than the gateway's probe timeout, or the gateway would count every silo failed at once.
    /// </summary>
    public static readonly TimeSpan AnswerBudget = TimeSpan.FromMilliseconds(250);

    // One ping at a time: probes that arrive while it runs wait on the same one, so a stall never piles up connections.
    private readonly Lock _gate = new();
    private Task<HealthCheckResult>? _ping;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Task<HealthCheckResult> ping;
        lock (_gate)
        {
            ping = _ping is { IsCompleted: false } running ? running : _ping = Task.Run(PingAsync, CancellationToken.None);
        }

        try
        {
            return await ping.WaitAsync(AnswerBudget, cancellationToken);
        }
        catch (TimeoutException)
        {
            return HealthCheckResult.Degraded($"mariadb slow: no answer within {AnswerBudget.TotalMilliseconds:0} ms");
        }
    }

    private async Task<HealthCheckResult> PingAsync()
    {
        // The log's own pool (timeouts set here, not in the string, which would make a third pool per silo).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await using var connection = new MySqlConnection(MariaDbMessageLog.ConnectionStringFor(options.Value.ConnectionString));
            await connection.OpenAsync(timeout.Token);
            await using var command = new MySqlCommand("SELECT 1", connection) { CommandTimeout = 2 };
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy("mariadb reachable");
        }
        catch (Exception exception) when (exception is MySqlException or InvalidOperationException or TimeoutException or OperationCanceledException)
        {
            return HealthCheckResult.Degraded($"mariadb unreachable: {exception.GetType().Name}");
        }
    }
}
