using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Switchboard.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Switchboard.Tests.Endpoints;

/// <summary>What 50 parallel history requests of large messages hold in a silo: the byte budget, end to end.</summary>
[Trait(Category.Name, Category.Cluster)]
public sealed class HistoryMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Fifty_parallel_history_requests_of_60_KiB_messages_each_get_a_page_of_about_the_byte_budget()
    {
        var bounded = await MeasureAsync(1024 * 1024);
        output.WriteLine($"50 parallel GET history of 100 x 60 KiB, budget 1 MiB: {bounded}");
        if (Environment.GetEnvironmentVariable("SB_MEASURE_UNBOUNDED") == "1")
        {
            output.WriteLine($"50 parallel GET history of 100 x 60 KiB, budget 256 MiB (no cap): {await MeasureAsync(256 * 1024 * 1024)}");
        }

        // 1 MiB holds 17 bodies of 60,002 bytes; every request got that page.
        Assert.Equal(50 * 17, bounded.Messages);
    }

    private static async Task<Figures> MeasureAsync(int pageMaxBytes)
    {
        await using var host = new SiloHostFactory(new Dictionary<string, string?>
        {
            ["Switchboard:History:PageMaxBytes"] = pageMaxBytes.ToString(CultureInfo.InvariantCulture),
            ["Switchboard:Rest:RequestsPerUserBurst"] = "1000",
        });
        using var api = new ApiClient(host.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        var token = TestTokens.Mint(alice);
        var body = new string('x', 60_000);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(200, (await api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body })).Status);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                await Task.Yield();
            }
        });
        var path = $"/api/conversations/{Protocol.Dm(alice, bob)}/messages?limit=1000";
        var watch = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            // Read and count, without keeping the reply: what is measured is the silo's side.
            using var response = await api.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[16 * 1024];
            var messages = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                messages += CountFrames(buffer.AsSpan(0, read));
            }

            return messages;
        }));
        var elapsed = watch.Elapsed;
        await sampling.CancelAsync();
        await sampler;
        return new Figures(counts.Sum(), peak - baseline, elapsed);
    }

    // Each message object starts with {"type":"message" and no body here contains a '{'.
    private static int CountFrames(ReadOnlySpan<byte> chunk) => chunk.Count((byte)'{');

    private sealed record Figures(int Messages, long Peak, TimeSpan Elapsed)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Messages} messages, test-process managed heap peak +{Peak / 1048576.0:F1} MiB, {Elapsed.TotalMilliseconds:F0} ms");
    }
}
