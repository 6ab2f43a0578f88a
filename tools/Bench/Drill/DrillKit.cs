using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>The silos a drill watches: their URLs (the targets), pids, RSS and health.</summary>
internal sealed record SiloSet(IReadOnlyList<Uri> Targets, IReadOnlyList<int> Pids, string DataDir);

/// <summary>What the malformed and slow-reader drills share: options, sockets, tokens, the silos' memory and health.</summary>
internal static class DrillKit
{
    public static readonly string[] DefaultTargets = ["ws://127.0.0.1:5001", "ws://127.0.0.1:5002"];

    /// <summary>The local cluster's data folder: <c>SB_DATA_DIR</c> as cluster.sh reads it, else its default.</summary>
    public static string DefaultDataDir => Environment.GetEnvironmentVariable("SB_DATA_DIR") is { Length: > 0 } dir ? dir : "deploy/local/.data";

    public static IReadOnlyList<Uri> ParseTargets(string value) =>
        [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(LoadOptions.ParseTarget)];

    /// <summary>The silo pids given, or those in the data folder's <c>pids/silo-N.pid</c> (cluster.sh writes them).</summary>
    public static IReadOnlyList<int> SiloPids(string? given, string dataDir)
    {
        if (given is not null)
        {
            return [.. given.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => LoadOptions.PositiveInt("--silo-pids", p.Trim()))];
        }

        var folder = Path.Combine(dataDir, "pids");
        var files = Directory.Exists(folder) ? Directory.GetFiles(folder, "silo-*.pid").Order(StringComparer.Ordinal).ToArray() : [];
        var pids = files.Select(f => int.TryParse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : 0).Where(p => p > 0).ToArray();
        return pids.Length > 0 ? pids : throw new UsageException($"no silo pid files in {folder}: give --silo-pids or --data-dir");
    }

    /// <summary>What every socket of a drill connects through; a receive buffer set before connect makes the window the server sees small.</summary>
    public static HttpMessageInvoker Invoker(bool insecure, int receiveBufferBytes = 0)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (insecure)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
        }

        if (receiveBufferBytes > 0)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = receiveBufferBytes };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpMessageInvoker(handler);
    }

    /// <summary>Opens <c>/ws</c> on <paramref name="target"/> with <paramref name="token"/> and reads the welcome; returns the socket, its reader and the node.</summary>
    public static async Task<(ClientWebSocket Socket, FrameReader Reader, string Node)> ConnectAsync(Uri target, string token, HttpMessageInvoker invoker, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        // The server pings; client pings would only add frames to what the drill counts.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            await socket.ConnectAsync(new Uri(target, "/ws"), invoker, deadline.Token);
            var reader = new FrameReader(socket);
            if (!await reader.NextAsync(deadline.Token))
            {
                throw new InvalidOperationException($"closed with {reader.CloseStatus} before the welcome");
            }

            using var welcome = JsonDocument.Parse(reader.Frame.ToArray());
            return (socket, reader, welcome.RootElement.GetProperty("node").GetString() ?? "?");
        }
        catch
        {
            socket.Abort();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Nearest-rank percentile of sorted values, in ms (values are µs); NaN when empty.</summary>
    public static double PercentileMs(List<long> sortedMicros, double p) =>
        sortedMicros.Count == 0 ? double.NaN : sortedMicros[Math.Clamp((int)Math.Ceiling(p / 100 * sortedMicros.Count) - 1, 0, sortedMicros.Count - 1)] / 1000.0;

    public static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("F2", CultureInfo.InvariantCulture);

    public static string MiB(long kib) => (kib / 1024.0).ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>A short random tag: fresh user and group ids each run, so conversations start at seq 1.</summary>
    public static string RunTag() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 4));

    /// <summary>Tokens for many users at once, a few requests in flight (the dev-token endpoint is REST, rate limited per address at the gateway only).</summary>
    public static async Task<string[]> TokensAsync(DevApi api, Uri target, IReadOnlyList<string> users, string role, CancellationToken cancellationToken)
    {
        var tokens = new string[users.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, users.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (i, ct) => tokens[i] = await api.TokenAsync(target, users[i], role, ct));
        return tokens;
    }
}

/// <summary>Reads whole messages from one socket into a growing pooled buffer; one caller at a time.</summary>
internal sealed class FrameReader(WebSocket socket) : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);
    private int _count;

    public ReadOnlySpan<byte> Frame => _buffer.AsSpan(0, _count);

    /// <summary>The close code the server sent; null while open or when the socket broke without one.</summary>
    public int? CloseStatus { get; private set; }

    /// <summary>The next message; false when the server closed (see <see cref="CloseStatus"/>). A broken socket throws.</summary>
    public async Task<bool> NextAsync(CancellationToken cancellationToken)
    {
        _count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            if (_count == _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                _buffer.AsSpan(0, _count).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }

            result = await socket.ReceiveAsync(_buffer.AsMemory(_count), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                CloseStatus = (int?)socket.CloseStatus;
                return false;
            }

            _count += result.Count;
        }
        while (!result.EndOfMessage);
        return true;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}

/// <summary>Samples the silos' VmRSS (baseline, peak) and their <c>/health/live</c> while a drill runs.</summary>
internal sealed class SiloWatch(SiloSet silos, bool insecure) : IDisposable
{
    private readonly HttpClient _http = new(Insecure(insecure)) { Timeout = TimeSpan.FromSeconds(2) };
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public long[] Baseline { get; } = new long[silos.Pids.Count];

    public long[] Peak { get; } = new long[silos.Pids.Count];

    public long[] After { get; } = new long[silos.Pids.Count];

    /// <summary>Health polls per target that were not 200 (or failed); a crashed silo shows here and as a dead pid.</summary>
    public int[] Unhealthy { get; } = new int[silos.Targets.Count];

    public int[] HealthPolls { get; } = new int[silos.Targets.Count];

    public bool AllAlive => silos.Pids.All(KillTarget.IsAlive);

    public void Start()
    {
        for (var i = 0; i < Baseline.Length; i++)
        {
            Baseline[i] = Peak[i] = ProcessMonitor.RssKiB(silos.Pids[i]) ?? 0;
        }

        _loop = Task.Run(async () =>
        {
            var nextHealth = 0L;
            while (!_stop.IsCancellationRequested)
            {
                Sample();
                if (Environment.TickCount64 >= nextHealth)
                {
                    nextHealth = Environment.TickCount64 + 500;
                    await Task.WhenAll(silos.Targets.Select((t, i) => PollHealthAsync(t, i)));
                }

                await Task.Delay(200, CancellationToken.None);
            }
        });
    }

    /// <summary>Waits (at most <paramref name="deadline"/>) until every silo's RSS is within the bar of its baseline; true when it is.</summary>
    public async Task<bool> SettleAsync(TimeSpan deadline, double fraction, long slackKiB, Action<string> progress)
    {
        var until = DateTime.UtcNow + deadline;
        var nextReport = DateTime.UtcNow;
        while (true)
        {
            var within = true;
            for (var i = 0; i < After.Length; i++)
            {
                After[i] = ProcessMonitor.RssKiB(silos.Pids[i]) ?? 0;
                within &= After[i] <= Bar(i, fraction, slackKiB);
            }

            if (within || DateTime.UtcNow >= until)
            {
                return within;
            }

            if (DateTime.UtcNow >= nextReport)
            {
                nextReport = DateTime.UtcNow.AddSeconds(5);
                progress("settling: RSS " + string.Join(", ", After.Select((a, i) => $"silo pid {silos.Pids[i]} {DrillKit.MiB(a)} MiB (bar {DrillKit.MiB(Bar(i, fraction, slackKiB))})")));
            }

            await Task.Delay(500);
        }
    }

    /// <summary>The RSS a silo must come back under: the larger of baseline × (1 + fraction) and baseline + slack.</summary>
    public long Bar(int i, double fraction, long slackKiB) => Math.Max((long)(Baseline[i] * (1 + fraction)), Baseline[i] + slackKiB);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        Sample();
    }

    private void Sample()
    {
        for (var i = 0; i < Peak.Length; i++)
        {
            Peak[i] = Math.Max(Peak[i], ProcessMonitor.RssKiB(silos.Pids[i]) ?? 0);
        }
    }

    private async Task PollHealthAsync(Uri target, int i)
    {
        Interlocked.Increment(ref HealthPolls[i]);
        try
        {
            using var response = await _http.GetAsync(new Uri(DevApi.HttpBase(target), "/health/live"));
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref Unhealthy[i]);
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            Interlocked.Increment(ref Unhealthy[i]);
        }
    }

    private static SocketsHttpHandler Insecure(bool insecure) => insecure
        ? new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true } }
        : new SocketsHttpHandler();

    public void Dispose()
    {
        _stop.Dispose();
        _http.Dispose();
    }
}
