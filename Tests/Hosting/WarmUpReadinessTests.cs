using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Switchboard.Persistence.MariaDb;
using Switchboard.Silo.Hosting;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Hosting;

/// <summary>
/// The warm-up holds <c>/health/ready</c> back (the real silo host on Kestrel): not ready while a step runs, ready when
/// it ends, and a database that hangs or refuses cannot keep the silo out of service past the warm-up's bound.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
public sealed class WarmUpReadinessTests
{
    [Fact]
    public async Task The_silo_is_not_ready_until_its_warm_up_has_run()
    {
        var gate = new GatedStep();
        await using var factory = new SiloHostFactory(On(), services: s => s.AddSingleton<IWarmUpStep>(gate));
        using var http = new HttpClient { BaseAddress = factory.BaseAddress };

        // Active in the cluster, listening, alive: and still unready, because the warm-up has not finished.
        await gate.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        for (var probe = 0; probe < 3; probe++)
        {
            using var ready = await http.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        Assert.False(factory.Services.GetRequiredService<SiloWarmUp>().IsFinished);

        gate.Open();
        await Wait.UntilAsync(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, "ready after the warm-up");
        Assert.True(gate.Ran);
    }

    [Fact]
    public async Task A_warm_up_that_never_ends_gives_up_at_its_bound_and_the_silo_becomes_ready()
    {
        var gate = new GatedStep();
        await using var factory = new SiloHostFactory(On("00:00:02"),
            services: s => s.AddSingleton<IWarmUpStep>(gate));
        using var http = new HttpClient { BaseAddress = factory.BaseAddress };

        await gate.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        var watch = Stopwatch.StartNew();
        await Wait.UntilAsync(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, "ready after giving up", TimeSpan.FromSeconds(15));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(12), $"ready {watch.Elapsed.TotalSeconds:F1} s after the step began");
        Assert.Contains(factory.Logs.Lines, l => l.Contains("[3203]", StringComparison.Ordinal) && l.Contains(gate.Name, StringComparison.Ordinal));
        Assert.Contains(gate.Name, factory.Services.GetRequiredService<SiloWarmUp>().Incomplete, StringComparison.Ordinal);
    }

    /// <summary>
    /// A MariaDB that accepts the connection and never answers (stalled) or refuses it: the database step's real
    /// MySqlConnector connects either hang past the bound or fail, and the silo is ready within the bound all the same.
    /// </summary>
    [Theory]
    [InlineData("stalled", "[3203]")]
    [InlineData("refused", "[3202]")]
    public async Task A_failing_database_makes_the_warm_up_give_up_within_its_bound_and_the_silo_still_becomes_ready(string database, string logged)
    {
        using var stalled = new TcpListener(IPAddress.Loopback, 0);
        stalled.Start(); // never accepted: the handshake completes in the kernel, the server's greeting never comes
        var port = database == "stalled" ? ((IPEndPoint)stalled.LocalEndpoint).Port : Infrastructure.Servers.ChildProcesses.FreePort();
        var options = Options.Create(new MessageLogOptions
        {
            // The driver's own timeout is well past the warm-up's bound: the bound is what must end the wait.
            ConnectionString = $"Server=127.0.0.1;Port={port};User ID=sb;Password=sb;Database=sb;Connection Timeout=60",
        });
        await using var log = new MariaDbMessageLog(options, NullLogger<MariaDbMessageLog>.Instance);
        await using var factory = new SiloHostFactory(On("00:00:03"),
            services: s => s.AddSingleton(new MariaDbWarmUp(options, log)));
        var watch = Stopwatch.StartNew();
        using var http = new HttpClient { BaseAddress = factory.BaseAddress };

        await Wait.UntilAsync(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, "ready with the database failing", TimeSpan.FromSeconds(30));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(25), $"ready after {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Contains(factory.Logs.Lines, l => l.Contains(logged, StringComparison.Ordinal) && l.Contains("database", StringComparison.Ordinal));
        Assert.Contains("database", factory.Services.GetRequiredService<SiloWarmUp>().Incomplete, StringComparison.Ordinal);
    }

    /// <summary>The warm-up on (test hosts turn it off), bounded by <paramref name="timeout"/> when given.</summary>
    private static Dictionary<string, string?> On(string? timeout = null) => new()
    {
        ["Switchboard:WarmUp:Enabled"] = "true",
        ["Switchboard:WarmUp:Timeout"] = timeout,
    };

    private sealed class GatedStep : IWarmUpStep
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "test-gate";

        public Task Entered => _entered.Task;

        public bool Ran { get; private set; }

        public void Open() => _open.TrySetResult();

        public async Task RunAsync(WarmUpOptions options, CancellationToken cancellationToken)
        {
            _entered.TrySetResult();
            await _open.Task.WaitAsync(cancellationToken);
            Ran = true;
        }
    }
}
