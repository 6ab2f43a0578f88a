using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Telemetry;

/// <summary>
/// The Grafana dashboard (deploy/grafana/switchboard.json) and the reader that checks its queries: a query's metric
/// names are found, a misspelt one is reported. The check against real scrapes is <see cref="DashboardScrapeTests"/>.
/// </summary>
[Trait(Category.Name, Category.Fast)]
public sealed class DashboardQueryTests
{
    public static string DashboardPath => Path.Combine(RepositoryRoot(), "deploy", "grafana", "switchboard.json");

    [Theory]
    [InlineData("sum by (instance) (switchboard_connections)", "switchboard_connections")]
    [InlineData("histogram_quantile(0.99, sum by (le) (rate(switchboard_send_duration_seconds_bucket[$__rate_interval])))", "switchboard_send_duration_seconds_bucket")]
    [InlineData("sum(rate(a_sum[5m])) / sum(rate(b_count{job=\"x\", code=~\"bad.*\"}[5m]))", "a_sum,b_count")]
    [InlineData("sum by (code) (rate(switchboard_errors_total{code!=\"sum\"}[${interval}])) > 0.5 and on (instance) up == bool 1", "switchboard_errors_total,up")]
    public void Metric_names_are_read_from_a_PromQL_query_without_functions_labels_or_keywords(string expression, string expected) =>
        Assert.Equal(expected.Split(','), PrometheusText.MetricNames(expression));

    [Fact]
    public void A_misspelt_metric_in_a_panel_is_reported_with_the_panels_title()
    {
        var exposition = "# TYPE switchboard_connections gauge\nswitchboard_connections{otel_scope_name=\"Switchboard.Silo\"} 3\n" +
                         "switchboard_send_duration_seconds_bucket{le=\"0.001\"} 1\n";
        var queries = PrometheusText.DashboardQueries("""
            {"panels": [
              {"title": "ok", "targets": [{"expr": "sum(switchboard_connections)"}]},
              {"title": "typo", "targets": [{"expr": "sum(switchboard_conections)"}, {"expr": "rate(switchboard_send_duration_seconds_bucket[1m])"}]}
            ]}
            """);

        Assert.Equal(["typo: switchboard_conections"], PrometheusText.Missing(queries, PrometheusText.SeriesNames(exposition)));
    }

    [Fact]
    public void Every_query_of_the_dashboard_reads_at_least_one_metric_and_the_key_series_have_panels()
    {
        var queries = PrometheusText.DashboardQueries(File.ReadAllText(DashboardPath));

        Assert.All(queries, q => Assert.True(q.Names.Count > 0, $"{q.Panel}: {q.Expression} reads no metric"));
        var read = queries.SelectMany(q => q.Names).ToHashSet(StringComparer.Ordinal);
        foreach (var key in new[]
                 {
                     "switchboard_connections", "switchboard_frames_received_total", "switchboard_send_duration_seconds_bucket",
                     "switchboard_log_commit_duration_seconds_bucket", "switchboard_log_commit_messages_bucket", "switchboard_log_backlog",
                     "switchboard_log_refused_total", "switchboard_errors_total", "switchboard_gateway_websockets",
                     "switchboard_gateway_destinations", "switchboard_gateway_rejections_total", "orleans_catalog_activations",
                     "orleans_messaging_processing_dispatcher_received_total",
                 })
        {
            Assert.Contains(key, read);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Orleans.sln not found above the test binaries.");
    }
}
