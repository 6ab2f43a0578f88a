using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Cluster.Security;

namespace Switchboard.Bench;

/// <summary>
/// The floor under any gateway that terminates TLS in .NET: what an idle WebSocket costs a bare Kestrel server with
/// and without TLS, nothing else in the process. The server runs here; the clients in a child process (so their own
/// memory is not counted); the server's RSS and managed heap after a full GC are read before and after they connect.
/// </summary>
internal static partial class TlsFloorBenchmark
{
    public const string Usage = "       dotnet run -c Release --project tools/Bench -- tls-floor [sockets=3000] [--plain | --keep-buffers]";

    public static async Task<int> RunAsync(string[] args)
    {
        var plain = args.Contains("--plain");
        // Without it the server sets SSL_MODE_RELEASE_BUFFERS on each connection, as the gateway does.
        var keepBuffers = args.Contains("--keep-buffers");
        var sockets = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) is { } count ? int.Parse(count, CultureInfo.InvariantCulture) : 3_000;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (!plain)
            {
                listen.UseHttps(certificate);
                if (!keepBuffers)
                {
                    listen.UseIdleTlsBufferRelease(NullLogger.Instance);
                }
            }
        }));
        await using var app = builder.Build();
        app.UseWebSockets();
        app.Map("/ws", async (HttpContext context) =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            try
            {
                // A zero-byte read holds no buffer while the socket is idle, as a well-behaved proxy's copy loop would.
                while ((await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None)).MessageType != WebSocketMessageType.Close)
                {
                    await socket.ReceiveAsync(new byte[4096].AsMemory(), CancellationToken.None);
                }
            }
            catch (WebSocketException)
            {
            }
        });
        await app.StartAsync();
        var address = new Uri(app.Urls.Single());
        var target = new UriBuilder(address) { Scheme = plain ? "ws" : "wss", Path = "/ws" }.Uri;

        var before = Measure();
        var mallocBefore = Malloc();
        using var clients = Process.Start(new ProcessStartInfo("dotnet", [typeof(TlsFloorBenchmark).Assembly.Location, "tls-floor-clients", target.ToString(), sockets.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
        })!;
        var line = await clients.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(3));
        if (line != "connected")
        {
            Console.WriteLine($"tls-floor: the clients did not connect: {line}");
            clients.Kill();
            return 1;
        }

        var after = Measure();
        var mallocAfter = Malloc();
        clients.Kill();
        var rss = (after.Rss - before.Rss) / 1024.0 / sockets;
        var managed = (after.Managed - before.Managed) / 1024.0 / sockets;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tls-floor: {sockets:N0} idle {(plain ? "ws" : keepBuffers ? "wss (buffers kept)" : "wss")} sockets on a bare Kestrel server: {rss:F1} KiB each (managed {managed:F1}, outside the managed heap {rss - managed:F1}; malloc in use {(mallocAfter.InUse - mallocBefore.InUse) / 1024.0 / sockets:F1}, freed and kept {(mallocAfter.Free - mallocBefore.Free) / 1024.0 / sockets:F1})"));
        return 0;
    }

    /// <summary>The child process: opens the sockets 32 at a time, says <c>connected</c>, and holds them until killed.</summary>
    public static async Task<int> RunClientsAsync(string[] args)
    {
        var target = new Uri(args[0]);
        var count = int.Parse(args[1], CultureInfo.InvariantCulture);
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var invoker = new HttpMessageInvoker(handler);
        var open = new List<ClientWebSocket>(count);
        using var gate = new SemaphoreSlim(32);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                var socket = new ClientWebSocket();
                socket.Options.KeepAliveInterval = TimeSpan.Zero;
                await socket.ConnectAsync(target, invoker, CancellationToken.None);
                lock (open)
                {
                    open.Add(socket);
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        Console.WriteLine("connected");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    /// <summary>glibc's malloc counters (mallinfo2, all arenas): bytes handed out and bytes freed but kept.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 MallocInfo();

    private static (long InUse, long Free) Malloc()
    {
        var info = MallocInfo();
        return ((long)(info.UordBlks + info.HBlkHd), (long)info.FordBlks);
    }

    private static (long Rss, long Managed) Measure()
    {
        // Settle: the connect burst's garbage and the pools' transient buffers are not what an idle socket holds.
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        Thread.Sleep(1000);
        using var process = Process.GetCurrentProcess();
        return (process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: true));
    }
}
