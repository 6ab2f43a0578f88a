using System.Buffers;
using System.Net.Security;
using System.Net.WebSockets;
using System.Text;

namespace Switchboard.Bench.Load;

/// <summary>A message waiting for its client's previous send to finish.</summary>
/// <summary>A message of a book to send, or (W5, <see cref="ReadOf"/> set) a <c>read</c> of a delivered message.</summary>
internal readonly record struct PendingSend(MessageBook Book, int N, byte[] To, byte[]? ReadOf = null, long ReadSeq = 0);

/// <summary>
/// One simulated client: one WebSocket authenticated as <c>u&lt;index&gt;</c>, one receive loop with a pooled
/// buffer, and a send path that writes one frame at a time (a socket takes one send at a time; a send that
/// finds the previous one still running waits in a small queue instead of blocking the scheduler).
/// </summary>
internal sealed class BenchClient(int index, int target, IClientEvents engine, string user)
{
    private readonly Lock _sendLock = new();
    private TaskCompletionSource<string> _welcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<long> _held = [];
    private Queue<PendingSend>? _backlog;
    private bool _busy;
    private byte[]? _frame;
    private byte[]? _controlId;
    private TaskCompletionSource<string?>? _control;

    public int Index { get; } = index;

    /// <summary>The index of the target URL this client connects to (client i to target i mod k).</summary>
    public int Target { get; } = target;

    /// <summary>The user id (the load workloads' client i is <c>u&lt;i&gt;</c>; the failover drill's are fresh per run).</summary>
    public string User { get; } = user;

    public byte[] UserUtf8 { get; } = Encoding.UTF8.GetBytes(user);

    /// <summary><c>user:&lt;user&gt;</c>, the <c>to</c> of a direct message to this client.</summary>
    public byte[] AddressUtf8 { get; } = Encoding.UTF8.GetBytes($"user:{user}");

    /// <summary>The index of the node (silo) that welcomed this client; -1 before the welcome.</summary>
    public int Node { get; set; } = -1;

    /// <summary>W2: the client's group and its slot among the group's members; -1 outside W2.</summary>
    public int Group { get; set; } = -1;

    public int GroupSlot { get; set; } = -1;

    public ClientWebSocket? Socket { get; private set; }

    public Task ReceiveLoop { get; private set; } = Task.CompletedTask;

    /// <summary>The node name of the welcome frame.</summary>
    public Task<string> Welcome => _welcome.Task;

    /// <summary>Starts the receive loop of a new socket (a retried connect gets a fresh welcome to wait for).</summary>
    public void Start(ClientWebSocket socket)
    {
        var welcome = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _welcome, welcome);
        Socket = socket;
        ReceiveLoop = ReceiveLoopAsync(socket, welcome);
    }

    /// <summary>What every socket of a run connects through; <paramref name="insecure"/> accepts a self-signed certificate.</summary>
    public static HttpMessageInvoker SocketInvoker(bool insecure)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (insecure)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
        }

        return new HttpMessageInvoker(handler);
    }

    /// <summary>Closes every socket (close frame, then abort after 10 s) and waits for the receive loops.</summary>
    public static async Task CloseAllAsync(IReadOnlyList<BenchClient> clients)
    {
        var open = clients.Where(c => c.Socket is { State: WebSocketState.Open }).ToArray();
        await Parallel.ForEachAsync(open, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (client, _) =>
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.Socket!.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bench done", timeout.Token);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                client.Socket!.Abort();
            }
        });
        var loops = Task.WhenAll(clients.Select(c => c.ReceiveLoop));
        if (await Task.WhenAny(loops, Task.Delay(TimeSpan.FromSeconds(10))) != loops)
        {
            foreach (var client in clients)
            {
                client.Socket?.Abort();
            }
        }

        foreach (var client in clients)
        {
            client.Socket?.Dispose();
        }
    }

    public void OnWelcome(ReadOnlySpan<byte> node) => Volatile.Read(ref _welcome).TrySetResult(Encoding.UTF8.GetString(node));

    /// <summary>
    /// Opens a socket to <paramref name="target"/>'s <c>/ws</c> with <paramref name="token"/>, starts its receive
    /// loop and waits for the welcome; returns the node it names. On failure the socket is aborted (its loop, if
    /// it started, reports the close) and the exception is thrown.
    /// </summary>
    public async Task<string> ConnectAsync(Uri target, string token, HttpMessageInvoker invoker, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");

            // The server pings every 20 s and the receive loop answers; client pings would only add traffic.
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            await socket.ConnectAsync(new Uri(target, "/ws"), invoker, deadline.Token);
            Start(socket);
            return await Welcome.WaitAsync(timeout, cancellationToken);
        }
        catch
        {
            socket.Abort();
            socket.Dispose();
            throw;
        }
    }

    private async Task ReceiveLoopAsync(ClientWebSocket socket, TaskCompletionSource<string> welcome)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            while (true)
            {
                var count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (count == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, count).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        engine.OnClosed(this, (int?)socket.CloseStatus, socket.CloseStatusDescription);
                        if (socket.State == WebSocketState.CloseReceived)
                        {
                            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None);
                        }

                        return;
                    }

                    count += result.Count;
                }
                while (!result.EndOfMessage);

                engine.OnFrame(this, buffer.AsSpan(0, count), BenchClock.NowMicros());
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            engine.OnClosed(this, null, exception.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            welcome.TrySetException(new InvalidOperationException($"{User}: the socket closed before the welcome"));
            _control?.TrySetException(new InvalidOperationException($"{User}: the socket closed before the reply"));
        }
    }

    /// <summary>
    /// Receive loop only: records that this client holds <paramref name="seq"/> of a conversation (the peer's
    /// client index for a direct conversation, clients + group index for a group); false when it already did.
    /// </summary>
    public bool TryRemember(int conversationKey, long seq) => _held.Add(((long)conversationKey << 36) | (seq & ((1L << 36) - 1)));

    /// <summary>Sends a setup request (join, leave) and waits for its reply: null for an ack, else the error code.</summary>
    public async Task<string?> RequestAsync(string id, string json, TimeSpan timeout)
    {
        var socket = Socket ?? throw new InvalidOperationException($"{User} is not connected");
        var reply = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _control, reply);
        Volatile.Write(ref _controlId, Encoding.UTF8.GetBytes(id));
        await socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        return await reply.Task.WaitAsync(timeout);
    }

    /// <summary>True when <paramref name="id"/> answers this client's setup request.</summary>
    public bool TryCompleteRequest(ReadOnlySpan<byte> id, ReadOnlySpan<byte> errorCode)
    {
        var expected = Volatile.Read(ref _controlId);
        if (expected is null || !id.SequenceEqual(expected))
        {
            return false;
        }

        Volatile.Write(ref _controlId, null);
        Volatile.Read(ref _control)?.TrySetResult(errorCode.IsEmpty ? null : Encoding.UTF8.GetString(errorCode));
        return true;
    }

    /// <summary>Scheduler: sends message <paramref name="n"/> now, or right after the send in progress.</summary>
    public void Send(MessageBook book, int n, byte[] to) => Enqueue(new PendingSend(book, n, to));

    /// <summary>Receive loop (W5): answers a delivered message with a <c>read</c> of it, after any send in progress.</summary>
    public void SendRead(ReadOnlySpan<byte> conversation, long seq) => Enqueue(new PendingSend(null!, 0, [], conversation.ToArray(), seq));

    private void Enqueue(PendingSend item)
    {
        lock (_sendLock)
        {
            if (_busy)
            {
                (_backlog ??= new Queue<PendingSend>()).Enqueue(item);
                return;
            }

            _busy = true;
        }

        SendLoop(item);
    }

    private void SendLoop(PendingSend item)
    {
        while (true)
        {
            var pending = StartSend(item);
            if (!pending.IsCompleted)
            {
                _ = CompleteSendAsync(pending, item);
                return;
            }

            try
            {
                pending.GetAwaiter().GetResult();
            }
            catch (Exception exception)
            {
                MarkFailed(item, exception);
            }

            if (!TryTakeNext(out item))
            {
                return;
            }
        }
    }

    private async Task CompleteSendAsync(ValueTask pending, PendingSend item)
    {
        try
        {
            await pending;
        }
        catch (Exception exception)
        {
            MarkFailed(item, exception);
        }

        if (TryTakeNext(out var next))
        {
            SendLoop(next);
        }
    }

    private bool TryTakeNext(out PendingSend item)
    {
        lock (_sendLock)
        {
            if (_backlog is { Count: > 0 })
            {
                item = _backlog.Dequeue();
                return true;
            }

            _busy = false;
            item = default;
            return false;
        }
    }

    /// <summary>Writes the frame and stamps the send time last, just before the bytes go to the socket.</summary>
    private ValueTask StartSend(in PendingSend item)
    {
        if (item.ReadOf is { } conversation)
        {
            (engine as LoadEngine)?.CountReadSent();
            var read = Encoding.UTF8.GetBytes($"{{\"type\":\"read\",\"id\":\"rd\",\"conversation\":\"{Encoding.UTF8.GetString(conversation)}\",\"seq\":{item.ReadSeq}}}");
            try
            {
                return Socket!.SendAsync(read.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
            catch (Exception exception)
            {
                return ValueTask.FromException(exception);
            }
        }

        var frame = _frame ??= new byte[SendFrame.MaxLength];
        var now = BenchClock.NowMicros();
        var length = SendFrame.Write(frame, engine.RunTagUtf8, item.Book.Segment, item.N, item.To, now);
        item.Book.MarkSent(item.N, now);
        try
        {
            return Socket!.SendAsync(frame.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        catch (Exception exception)
        {
            return ValueTask.FromException(exception);
        }
    }

    private static void MarkFailed(in PendingSend item, Exception exception)
    {
        // A read that could not be written is only a missing read: the message it answers was delivered.
        if (item.ReadOf is null)
        {
            item.Book.MarkSendFailed(item.N, SendFailure(exception));
        }
    }

    private static string SendFailure(Exception exception) => $"socket send failed ({exception.GetType().Name})";
}
