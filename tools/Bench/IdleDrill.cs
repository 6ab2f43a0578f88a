using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Switchboard.Bench;

/// <summary>
/// The idle-socket drill: a socket that sends nothing for a long time (10 minutes by default) must still be
/// open at the end, through the gateway with its default 100 s idle timeout, because the silo pings it
/// every 20 s. At the end it sends a ping and waits for the pong.
/// </summary>
internal static class IdleDrill
{
    public static async Task<int> RunAsync(Uri target, TimeSpan idle, bool insecure)
    {
        using var handler = new SocketsHttpHandler();
        if (insecure)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }

        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = target };
        var user = $"idle-{Guid.NewGuid():N}"[..17];
        using var tokenReply = await http.PostAsJsonAsync("/api/dev/token", new { user, role = "student" });
        tokenReply.EnsureSuccessStatusCode();
        var token = (await tokenReply.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // the client stays silent: only the server's pings keep it alive
        var ws = new UriBuilder(target) { Scheme = target.Scheme == "https" ? "wss" : "ws", Path = "/ws" }.Uri;
        await socket.ConnectAsync(ws, new HttpMessageInvoker(handler), CancellationToken.None);
        var buffer = new byte[64 * 1024];
        var welcome = await ReceiveTextAsync(socket, buffer, CancellationToken.None);
        Console.WriteLine($"idle-drill: connected to {ws} as {user}: {welcome}");

        // Receive in the background (none expected: the pings are control frames the socket answers itself).
        var started = Stopwatch.GetTimestamp();
        using var stop = new CancellationTokenSource();
        var receiving = ReceiveTextAsync(socket, buffer, stop.Token);
        while (Stopwatch.GetElapsedTime(started) < idle)
        {
            var finished = await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(30)));
            if (finished == receiving)
            {
                Console.WriteLine($"idle-drill: FAILED after {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s idle: {socket.State} {socket.CloseStatus} {socket.CloseStatusDescription}");
                return 1;
            }

            Console.WriteLine($"idle-drill: {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s idle, socket {socket.State}");
        }

        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"id\":\"after-idle\"}"), WebSocketMessageType.Text, true, CancellationToken.None);
        var reply = await receiving.WaitAsync(TimeSpan.FromSeconds(10));
        var ok = reply.Contains("\"pong\"", StringComparison.Ordinal) && reply.Contains("after-idle", StringComparison.Ordinal);
        Console.WriteLine(ok
            ? $"idle-drill: PASSED: after {idle.TotalMinutes:F1} min without a frame from the client the socket answered: {reply}"
            : $"idle-drill: FAILED: unexpected reply {reply}");
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "drill done", CancellationToken.None);
        return ok ? 0 : 1;
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
            count += result.Count;
        }
        while (!result.EndOfMessage);

        return result.MessageType == WebSocketMessageType.Close ? "(closed)" : Encoding.UTF8.GetString(buffer, 0, count);
    }
}
