using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Switchboard.Bench.Load;

namespace Switchboard.Bench.Drill;

/// <summary>
/// <c>failover-drill</c>: clients connect through the gateway and send direct messages open loop between random
/// pairs; after <see cref="FailoverOptions.Before"/> seconds one silo is SIGKILLed. What a careful client does is
/// done: a send answered <c>unavailable</c>, unanswered in time, or lost with its socket is written again with the
/// same id until acked; a dropped socket reconnects through the gateway with backoff and resumes every conversation
/// the user has (<c>GET /api/users/{id}/conversations</c>) from the last seq held without a gap; a gap seen live
/// is resumed after a second. At the end every client resumes once more, as on its next connection, and the drill
/// checks that every acked message reached its recipient under one seq, that no seq carries two messages, and that
/// every client holds every conversation gaplessly.
/// </summary>
internal sealed partial class FailoverDrill : IClientEvents, IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private readonly FailoverOptions _options;
    private readonly string _killNode;
    private readonly DevApi _api;
    private readonly HttpMessageInvoker _invoker;
    private readonly DrillClient[] _clients;
    private readonly DrillLedger _ledger;
    private readonly Random _pairs;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, long> _closeReasons = [];
    private readonly Dictionary<string, long> _connectFailures = [];
    private readonly Dictionary<string, long> _unmatchedErrors = [];
    private readonly Dictionary<Arrival, long> _resumes = Enum.GetValues<Arrival>().Where(a => a != Arrival.Live).ToDictionary(a => a, _ => 0L);
    private readonly List<string> _problems = [];
    private readonly List<string> _notes = [];
    private readonly long _startMicros = BenchClock.NowMicros();
    private readonly FaultTimeline? _timeline;
    private readonly Fault? _fault;
    private Task _faultTask = Task.CompletedTask;
    private long _faultEndMicros;
    private HistoryVerdict? _history;
    private long _killMicros;
    private long _pidGoneMicros;
    private long _foreignFrames;
    private long _unknownFrames;
    private long _resumeIds;
    private long _listsRead;
    private volatile string _phase = "connecting";
    private volatile bool _closing;

    private FailoverDrill(FailoverOptions options, string killNode)
    {
        _options = options;
        _killNode = killNode;
        _api = new DevApi(options.Insecure);
        _invoker = BenchClient.SocketInvoker(options.Insecure);
        _pairs = new Random(options.Seed);
        var tag = Guid.NewGuid().ToString("N")[..6];
        RunTag = $"{tag}-";
        RunTagUtf8 = Encoding.UTF8.GetBytes(RunTag);

        // Fresh users every run: each conversation starts at seq 1, so "gapless" means seqs 1 to the latest.
        var users = Enumerable.Range(0, options.Clients).Select(i => $"d{tag}-{i}").ToArray();
        _clients = [.. users.Select((user, i) => new DrillClient(new BenchClient(i, 0, this, user)))];
        _ledger = new DrillLedger(users);
        if (options.Kind != FaultKind.Kill)
        {
            _timeline = new FaultTimeline();
            _fault = Fault.Create(options, _timeline, new GatewayProbe(_api, options.Target, options.Insecure, RunTag), () =>
            {
                lock (_gate)
                {
                    return _ledger.Messages.Count(m => m.State == SendState.InFlight);
                }
            });
        }
    }

    public string RunTag { get; }

    public byte[] RunTagUtf8 { get; }

    private long Now => BenchClock.NowMicros();

    /// <summary><c>failover-drill</c> (a SIGKILL of one silo), or with <paramref name="fault"/> <c>fault-drill</c> (the fault of its <c>--kind</c>).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, bool fault = false)
    {
        FailoverOptions options;
        string killNode;
        try
        {
            options = FailoverOptions.Parse(args, fault);
            killNode = fault ? options.Kind.ToString() : KillTarget.Resolve(options.KillPid, options.KillNode);
        }
        catch (UsageException exception)
        {
            Console.Error.WriteLine($"bench {(fault ? "fault-drill" : "failover-drill")}: {exception.Message}");
            Console.Error.WriteLine(fault ? FailoverOptions.FaultUsage : FailoverOptions.Usage);
            return 2;
        }

        var drill = new FailoverDrill(options, killNode);
        await using (drill.ConfigureAwait(true))
        {
            return await drill.RunAsync();
        }
    }

    private async Task<int> RunAsync()
    {
        var o = _options;
        if (o.Control is not null)
        {
            Console.WriteLine($"failover drill: CONTROL RUN ({o.Control}): clients {(o.NoResume ? "never resume" : "retry under new ids")}; this run should FAIL");
        }

        Console.WriteLine($"{(_fault is null ? "failover drill" : $"fault drill ({_fault.Name})")}: {o.Clients} clients through {DevApi.HttpBase(o.Target)} ({_clients[0].User} ...), {o.Rate:0.###} msg/s between random pairs (seed {o.Seed}); " +
            (_fault is null
                ? $"SIGKILL {_killNode} (pid {o.KillPid}) after {o.Before:0.###} s, traffic {o.After:0.###} s more, then up to {o.Settle:0.###} s to settle"
                : $"after {o.Before:0.###} s: {_fault.Plan}; traffic through it and {o.After:0.###} s more, then up to {o.Settle:0.###} s to settle"));
        var progress = ProgressAsync(_stopping.Token);
        DrillReport report;
        try
        {
            if (await SetUpAsync() is { } refusal)
            {
                // Nothing was killed: the set-up is what failed.
                report = Report();
                report.Problems.Insert(0, refusal);
            }
            else
            {
                var maintenance = MaintainAsync(_stopping.Token);
                await TrafficAsync();
                await SettleAsync();
                await FinalResumeAsync();
                await CheckHistoryAsync();
                report = Report();
                await _stopping.CancelAsync();
                await maintenance;
            }
        }
        catch (Exception exception)
        {
            Console.Error.WriteLine($"bench failover-drill: aborted: {exception}");
            report = Report();
            report.Problems.Insert(0, $"aborted: {exception.GetType().Name}: {exception.Message}");
        }
        finally
        {
            await _stopping.CancelAsync();
            await progress;

            // An aborted drill still lets the fault finish (cluster.sh bounds each step): the cluster is not left half down.
            await _faultTask;
        }

        Console.Write(report.Format());
        if (o.Out is not null)
        {
            await report.WriteJsonAsync(o.Out);
            Console.WriteLine($"   report: {o.Out}");
        }

        return report.Passed ? 0 : 1;
    }

    /// <summary>Connects every client; null when the drill can go on, else why it cannot.</summary>
    private async Task<string?> SetUpAsync()
    {
        var deadline = Now + 15_000_000;
        var connected = await Task.WhenAll(_clients.Select(c => ConnectAsync(c, reconnect: false, deadline)));
        if (connected.Any(ok => !ok))
        {
            return $"set-up: {connected.Count(ok => !ok)} of {_clients.Length} clients could not connect through {_options.Target} within 15 s";
        }

        string spread;
        int onVictim;
        lock (_gate)
        {
            spread = string.Join(", ", _clients.GroupBy(c => c.Node).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
            onVictim = _clients.Count(c => c.Node == _killNode);
        }

        Console.WriteLine($"connected {_clients.Length} clients: {spread}");
        if (_fault is not null)
        {
            return null;
        }

        if (onVictim == 0)
        {
            return $"set-up: no client landed on {_killNode} (clients: {spread}): --kill-node must name the killed silo as welcome frames do, or the gateway routes nothing there";
        }

        return onVictim == _clients.Length ? $"set-up: every client landed on {_killNode}: nobody would be left to send during the outage" : null;
    }

    /// <summary>Open loop for Before + After seconds; the kill happens when Before is over.</summary>
    private async Task TrafficAsync()
    {
        var o = _options;
        var start = Now;
        var period = 1_000_000.0 / o.Rate;
        // A fault lasts as long as it takes: its traffic goes on until After seconds past its end.
        var total = _fault is null ? (long)Math.Round(o.Rate * (o.Before + o.After)) : long.MaxValue;
        var killAt = start + (long)(o.Before * 1e6);
        var end = _fault is null ? killAt + (long)(o.After * 1e6) : long.MaxValue;
        _phase = "traffic";
        long k = 0;
        while (true)
        {
            var now = Now;
            if (_killMicros == 0 && now >= killAt)
            {
                if (_fault is null)
                {
                    Kill();
                    _phase = "traffic after the kill";
                }
                else
                {
                    StartFault();
                    _phase = "traffic, fault";
                }
            }

            if (_fault is not null && _killMicros != 0 && end == long.MaxValue && _faultTask.IsCompleted)
            {
                end = now + (long)(o.After * 1e6);
                _phase = "traffic after the fault";
            }

            for (var due = Math.Min(total, (long)((now - start) / period) + 1); k < due && now < end; k++)
            {
                Schedule(now);
            }

            if ((k >= total || _fault is not null) && now >= end)
            {
                break;
            }

            var next = Math.Min(k < total ? start + (long)(k * period) : end, _killMicros == 0 ? killAt : long.MaxValue);
            await Task.Delay(TimeSpan.FromMicroseconds(Math.Clamp(next - Now, 1000, 50_000)));
        }
    }

    private void Schedule(long nowMicros)
    {
        var sender = _pairs.Next(_clients.Length);
        var target = _pairs.Next(_clients.Length - 1);
        if (target >= sender)
        {
            target++;
        }

        var client = _clients[sender];
        DrillMessage message;
        bool write;
        lock (_gate)
        {
            message = _ledger.Schedule(sender, target, nowMicros);
            write = client.Connected;
            if (write)
            {
                _ledger.MarkWritten(message, client.Connection, nowMicros);
            }
        }

        if (write)
        {
            _ = WriteAsync(message, 0);
        }
    }

    /// <summary>
    /// Writes message n as <c>&lt;run tag&gt;&lt;segment&gt;-&lt;n&gt;</c>. Every write of a message has segment 0, so
    /// every retry has the same id; only the new-id-retries control numbers them by attempt.
    /// </summary>
    private async Task WriteAsync(DrillMessage message, int segment)
    {
        var frame = new byte[SendFrame.MaxLength];
        var length = SendFrame.Write(frame, RunTagUtf8, segment, message.N, _ledger.AddressUtf8(message.Target), Now);

        // A failed write needs nothing here: the message is written again once its sender's connection changes.
        await _clients[message.Sender].WriteAsync(frame.AsMemory(0, length));
    }

    private void Kill()
    {
        var now = Now;
        string? failure = null;
        try
        {
            using var process = Process.GetProcessById(_options.KillPid);
            process.Kill(); // SIGKILL on Unix
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            failure = $"could not SIGKILL pid {_options.KillPid}: {exception.Message}";
        }

        int onVictim;
        lock (_gate)
        {
            _killMicros = now;
            foreach (var client in _clients)
            {
                client.NodeAtKill = client.Connected ? client.Node : null;
            }

            onVictim = _clients.Count(c => c.NodeAtKill == _killNode);
            _ledger.MarkKill();
            if (failure is not null)
            {
                _problems.Add(failure);
            }
        }

        Console.WriteLine($"[{Elapsed(now)}] SIGKILL {_killNode} (pid {_options.KillPid}) at {DateTime.UnixEpoch.AddTicks(now * 10):HH:mm:ss.fff} UTC; {onVictim} clients were on it{(failure is null ? string.Empty : $": {failure}")}");
        _ = WatchPidAsync();
    }

    /// <summary>The fault begins: the moment is what the report's times count from, as a kill's.</summary>
    private void StartFault()
    {
        var now = Now;
        lock (_gate)
        {
            _killMicros = now;
            foreach (var client in _clients)
            {
                client.NodeAtKill = client.Connected ? client.Node : null;
            }

            _ledger.MarkKill();
        }

        Console.WriteLine($"[{Elapsed(now)}] the fault begins: {_fault!.Plan}");
        _faultTask = RunFaultAsync();
    }

    private async Task RunFaultAsync()
    {
        try
        {
            await _fault!.RunAsync();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            _timeline!.Problem($"the fault failed: {exception.GetType().Name}: {exception.Message}");
        }

        _faultEndMicros = Now;
        Console.WriteLine($"[{Elapsed(_faultEndMicros)}] the fault is over after {(_faultEndMicros - _killMicros) / 1e6:F1} s");
    }

    /// <summary>Every conversation's history against what the clients were told and hold (see <see cref="HistoryCheck"/>).</summary>
    private async Task CheckHistoryAsync()
    {
        _phase = "history check";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            _history = await HistoryCheck.RunAsync(_api, _options.Target, _ledger, _clients, RunTagUtf8, _gate, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                _problems.Add("the history check did not finish within 60 s");
            }
        }
    }

    /// <summary>When the killed pid stops existing (or is a zombie nobody reaped yet).</summary>
    private async Task WatchPidAsync()
    {
        for (var i = 0; i < 100; i++)
        {
            if (!KillTarget.IsAlive(_options.KillPid))
            {
                _pidGoneMicros = Now;
                return;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Every tick: writes what is due (new while offline, retries, lost with a socket, timed out); resumes gaps older than a second.</summary>
    private async Task MaintainAsync(CancellationToken stopping)
    {
        var ackTimeout = (long)(_options.AckTimeout * 1e6);
        while (!stopping.IsCancellationRequested)
        {
            var now = Now;
            List<(DrillMessage Message, int Segment)> due;
            var gaps = new List<(DrillClient Client, List<int> Peers)>();
            lock (_gate)
            {
                due = [.. _ledger.TakeDue(now, i => _clients[i].Connected ? _clients[i].Connection : 0, ackTimeout)
                    .Select(m => (m, _options.NewIdRetries ? m.Writes - 1 : 0))];
                foreach (var client in _clients)
                {
                    if (!_options.NoResume && client.Connected && !client.Reconnecting && client.ResumesPending == 0 && _ledger.Gapped(client.Index, now - 1_000_000) is { Count: > 0 } peers)
                    {
                        client.ResumesPending++;
                        gaps.Add((client, peers));
                    }
                }
            }

            foreach (var (message, segment) in due)
            {
                _ = WriteAsync(message, segment);
            }

            foreach (var (client, peers) in gaps)
            {
                _ = ResumeAsync(client, Arrival.GapResume, peers);
            }

            try
            {
                await Task.Delay(Tick, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Until every send is answered, every client is connected and no resume runs (at most --settle), then at most
    /// 3 s more for live deliveries.
    /// </summary>
    private async Task SettleAsync()
    {
        _phase = "settling";
        var deadline = Now + (long)(_options.Settle * 1e6);
        bool Quiet()
        {
            lock (_gate)
            {
                return _ledger.Unanswered == 0 && _clients.All(c => c.Connected && !c.Reconnecting && c.ResumesPending == 0);
            }
        }

        bool Delivered()
        {
            lock (_gate)
            {
                return _ledger.IsSettled;
            }
        }

        while (Now < deadline && !Quiet())
        {
            await Task.Delay(Tick);
        }

        var delivered = Math.Min(deadline, Now + 3_000_000);
        while (Now < delivered && !Delivered())
        {
            await Task.Delay(Tick);
        }
    }

    /// <summary>Every connected client resumes from its conversation list once more, as it would on its next connection.</summary>
    private async Task FinalResumeAsync()
    {
        _phase = "final resume";
        var resumes = new List<Task>();
        lock (_gate)
        {
            foreach (var client in _clients.Where(c => c.Connected))
            {
                client.ResumesPending++;
                resumes.Add(ResumeAsync(client, Arrival.FinalResume, peers: null));
            }
        }

        var all = Task.WhenAll(resumes);
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(15))) != all)
        {
            lock (_gate)
            {
                _problems.Add("the final resume did not finish within 15 s");
            }
        }
    }

    /// <summary>
    /// Connects (or reconnects) <paramref name="client"/> through the gateway, with backoff (100 ms doubling to 2 s,
    /// full jitter) until <paramref name="deadlineMicros"/> or the end of the drill. True once a welcome arrived.
    /// </summary>
    private async Task<bool> ConnectAsync(DrillClient client, bool reconnect, long deadlineMicros)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                client.Token ??= await _api.TokenAsync(_options.Target, client.User, "student", _stopping.Token);
                var node = await client.Bench.ConnectAsync(_options.Target, client.Token, _invoker, TimeSpan.FromSeconds(5), _stopping.Token);
                var now = Now;
                lock (_gate)
                {
                    // A socket that closed between its welcome and here was reported while not connected (ignored): retry.
                    if (client.Bench.Socket is { State: WebSocketState.Open })
                    {
                        client.Connection++;
                        client.Connected = true;
                        client.Node = node;
                        client.ResumedOnConnection = false;
                        client.Arrival = Arrival.Live;
                        if (reconnect)
                        {
                            if (client.Outages.Count > 0 && client.Outages[^1].BackMicros == 0)
                            {
                                client.Outages[^1] = (client.Outages[^1].DroppedMicros, now);
                            }

                            client.Reconnects++;
                            if (client.BackMicros == 0)
                            {
                                client.BackMicros = now;
                            }
                        }

                        return true;
                    }
                }

                throw new WebSocketException("the socket closed right after its welcome");
            }
            catch (Exception exception) when (!_stopping.IsCancellationRequested && exception is not OutOfMemoryException)
            {
                lock (_gate)
                {
                    client.FailedAttempts++;
                    var reason = Describe(exception);
                    _connectFailures[reason] = _connectFailures.GetValueOrDefault(reason) + 1;
                }

                if (Now + (long)(delay.TotalMilliseconds * 1000) > deadlineMicros)
                {
                    Console.Error.WriteLine($"  {client.User}: could not connect: {Describe(exception)}");
                    return false;
                }

                try
                {
                    // Full jitter (uniform over 0..delay): clients dropped together do not come back in waves.
                    await Task.Delay(delay * Random.Shared.NextDouble(), _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }

                delay = TimeSpan.FromMilliseconds(Math.Min(2000, delay.TotalMilliseconds * 2));
            }
        }

        return false;
    }

    private async Task ReconnectAsync(DrillClient client)
    {
        try
        {
            if (await ConnectAsync(client, reconnect: true, long.MaxValue))
            {
                lock (_gate)
                {
                    client.ResumesPending++;
                }

                Console.WriteLine($"[{Elapsed(Now)}] {client.User} back on {client.Node}: resuming");
                await ResumeAsync(client, Arrival.ReconnectResume, peers: null);
            }
        }
        finally
        {
            lock (_gate)
            {
                client.Reconnecting = false;
            }
        }
    }

    /// <summary>
    /// One resume (again while the server says <c>more</c>): of <paramref name="peers"/>' conversations, or when null,
    /// of every conversation the user's list names beyond what the client holds without a gap, plus those it holds
    /// with a gap. The final one also checks the list against what was acked. The caller has counted it in
    /// <see cref="DrillClient.ResumesPending"/>.
    /// </summary>
    private async Task ResumeAsync(DrillClient client, Arrival kind, IReadOnlyCollection<int>? peers)
    {
        await client.ResumeGate.WaitAsync();
        try
        {
            Dictionary<string, long> since;
            lock (_gate)
            {
                if (!client.Connected || _options.NoResume)
                {
                    return;
                }

                since = _ledger.Since(client.Index, peers);
            }

            if (peers is null)
            {
                // Without the list, everything the client knows is resumed from what it holds.
                if (await ListConversationsAsync(client) is { } listed)
                {
                    lock (_gate)
                    {
                        since = _ledger.Behind(client.Index, listed, kind == Arrival.FinalResume ? _problems : null);
                    }
                }
            }

            for (var round = 0; round < 10 && since.Count > 0; round++)
            {
                var id = $"{RunTag}r{client.Index}-{Interlocked.Increment(ref _resumeIds)}";
                var reply = new TaskCompletionSource<ResumeReply>(TaskCreationOptions.RunContinuationsAsynchronously);
                lock (_gate)
                {
                    if (!client.Connected)
                    {
                        return;
                    }

                    client.ResumeId = Encoding.UTF8.GetBytes(id);
                    client.ResumeReply = reply;
                    client.Arrival = kind;
                    client.ResumedOnConnection = true;
                    _resumes[kind]++;
                }

                ResumeReply answer;
                try
                {
                    var frame = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["type"] = "resume", ["id"] = id, ["since"] = since });
                    if (!await client.WriteAsync(frame))
                    {
                        return; // the socket is gone: the reconnect resumes
                    }

                    // Requests on one socket are handled in order: this one may wait behind a send stuck on the dead silo.
                    answer = await reply.Task.WaitAsync(TimeSpan.FromSeconds(20));
                }
                catch (Exception exception) when (exception is TimeoutException or ResumeFailedException)
                {
                    lock (_gate)
                    {
                        // An error answer is wrong; a timeout is a hiccup the next resume (at the latest the final one) repairs;
                        // a closed socket is the reconnect's to repair.
                        if (exception is ResumeFailedException { Code: not null })
                        {
                            _problems.Add($"resume by {client.User}: {exception.Message}");
                        }
                        else if (exception is TimeoutException)
                        {
                            (kind == Arrival.FinalResume ? _problems : _notes).Add($"{kind} resume by {client.User} unanswered for 20 s");
                        }
                    }

                    return;
                }
                finally
                {
                    lock (_gate)
                    {
                        if (client.ResumeReply == reply)
                        {
                            client.ResumeId = null;
                            client.ResumeReply = null;
                            client.Arrival = Arrival.Live;
                        }
                    }
                }

                lock (_gate)
                {
                    if (!answer.Recovered)
                    {
                        _problems.Add($"resume by {client.User}: recovered false (messages fell out of retention?)");
                    }

                    since = answer.More ? _ledger.Since(client.Index, [.. since.Keys.Select(c => _ledger.PeerOf(client.Index, c))]) : [];
                }
            }
        }
        finally
        {
            client.ResumeGate.Release();
            lock (_gate)
            {
                client.ResumesPending--;
            }
        }
    }

    /// <summary><c>GET /api/users/{id}/conversations</c> through the gateway, 3 tries; null when it kept failing.</summary>
    private async Task<IReadOnlyList<(string Conversation, long Seq)>?> ListConversationsAsync(DrillClient client)
    {
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var listed = await _api.ConversationsAsync(_options.Target, client.Token!, client.User, timeout.Token);
                Interlocked.Increment(ref _listsRead);
                return listed;
            }
            catch (Exception exception) when (exception is HttpRequestException or InvalidOperationException or OperationCanceledException or JsonException)
            {
                if (attempt == 3)
                {
                    lock (_gate)
                    {
                        _notes.Add($"the conversation list of {client.User} failed 3 times ({Describe(exception)}): it resumed what it knew");
                    }

                    return null;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(300 * attempt));
            }
        }

        return null;
    }

    public void OnFrame(BenchClient bench, ReadOnlySpan<byte> utf8, long nowMicros)
    {
        var frame = ServerFrame.Parse(utf8);
        if (frame.Type == ServerFrameType.Welcome)
        {
            bench.OnWelcome(frame.Node);
            return;
        }

        var client = _clients[bench.Index];
        lock (_gate)
        {
            var resumeReply = client.ResumeId is { } resumeId && frame.Id.SequenceEqual(resumeId) ? client.ResumeReply : null;
            var isMessage = SendFrame.TryParseId(frame.Id, RunTagUtf8, out _, out var n);
            switch (frame.Type)
            {
                case ServerFrameType.Ack when resumeReply is not null:
                    resumeReply.TrySetResult(new ResumeReply(frame.Recovered, frame.More));
                    break;
                case ServerFrameType.Ack when isMessage:
                    _ledger.OnAck(client.Index, n, frame.Conversation, frame.Seq, nowMicros);
                    break;
                case ServerFrameType.Message when isMessage:
                    _ledger.OnMessage(client.Index, n, frame, client.Arrival, client.ResumedOnConnection, nowMicros);
                    break;
                case ServerFrameType.Error:
                    var code = frame.Code.IsEmpty ? "error" : Encoding.UTF8.GetString(frame.Code);
                    if (resumeReply is not null)
                    {
                        resumeReply.TrySetException(new ResumeFailedException(code, $"answered error {code}"));
                    }
                    else if (isMessage)
                    {
                        _ledger.OnError(client.Index, n, code, nowMicros);
                    }
                    else
                    {
                        _unmatchedErrors[code] = _unmatchedErrors.GetValueOrDefault(code) + 1;
                    }

                    break;
                case ServerFrameType.Pong:
                    break;
                case ServerFrameType.Ack or ServerFrameType.Message:
                    _foreignFrames++;
                    break;
                default:
                    _unknownFrames++;
                    break;
            }
        }
    }

    public void OnClosed(BenchClient bench, int? status, string? reason)
    {
        if (_closing)
        {
            return;
        }

        var client = _clients[bench.Index];
        var now = Now;
        lock (_gate)
        {
            // Not connected: a connect attempt that failed after its socket opened. An open current socket: a stale report.
            if (!client.Connected || bench.Socket is { State: WebSocketState.Open })
            {
                return;
            }

            client.Connected = false;
            client.Reconnecting = true;
            client.Drops++;
            client.Outages.Add((now, 0));
            if (client.DroppedMicros == 0)
            {
                client.DroppedMicros = now;
            }

            var why = status is null ? $"aborted ({reason})" : $"close {status} {reason}".TrimEnd();
            _closeReasons[why] = _closeReasons.GetValueOrDefault(why) + 1;
            client.ResumeReply?.TrySetException(new ResumeFailedException(null, "the socket closed before the reply"));
            Console.WriteLine($"[{Elapsed(now)}] {client.User} on {client.Node}: socket dropped ({why}); reconnecting through the gateway");
        }

        _ = Task.Run(() => ReconnectAsync(client));
    }

    private async Task ProgressAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                string line;
                lock (_gate)
                {
                    var c = _ledger.Counts;
                    line = $"[{Elapsed(Now)}] {_phase,-22} connected {_clients.Count(x => x.Connected),3}/{_clients.Length}  sent {_ledger.Messages.Count,5}  " +
                        $"acked {_ledger.Acked,5}  unanswered {_ledger.Unanswered,4}  delivered {_ledger.Delivered,5}  unavailable {c.Unavailable,3}  " +
                        $"retries {c.Retries,3}  drops {_clients.Sum(x => x.Drops),3}  reconnects {_clients.Sum(x => x.Reconnects),3}";
                }

                Console.WriteLine(line);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private DrillReport Report()
    {
        lock (_gate)
        {
            var fault = _fault is null ? null : FaultFigures.Build(_fault, _timeline!, _killMicros, _faultEndMicros, _clients, _ledger.Messages);
            return DrillReport.Build(_options, _killNode, _startMicros, _killMicros, _pidGoneMicros, _clients, _ledger, _ledger.Verify(), fault, _history, new DrillReport.Frames(
                _foreignFrames,
                _unknownFrames,
                new Dictionary<string, long>(_unmatchedErrors),
                new Dictionary<string, long>(_closeReasons),
                new Dictionary<string, long>(_connectFailures),
                new Dictionary<Arrival, long>(_resumes),
                Interlocked.Read(ref _listsRead)), [.. _problems], [.. _notes]);
        }
    }

    private string Elapsed(long micros) => $"{(micros - _startMicros) / 1e6,6:F1}s";

    private static string Describe(Exception exception)
    {
        // "The server returned status code '503' when status code '101' was expected." says: HTTP 503.
        if (exception is WebSocketException && StatusCode().Match(exception.Message) is { Success: true } status)
        {
            return $"HTTP {status.Groups[1].Value}";
        }

        var message = exception.Message.Length > 100 ? exception.Message[..100] + "..." : exception.Message;
        return $"{exception.GetType().Name}: {message}";
    }

    [GeneratedRegex("status code '([0-9]{3})' when")]
    private static partial Regex StatusCode();

    public async ValueTask DisposeAsync()
    {
        _closing = true;
        await _stopping.CancelAsync();
        await BenchClient.CloseAllAsync([.. _clients.Select(c => c.Bench)]);
        _invoker.Dispose();
        _api.Dispose();
        _stopping.Dispose();
    }
}

/// <summary>A resume that got no ack: an error answer (<see cref="Code"/>), or its socket closed first (no code).</summary>
internal sealed class ResumeFailedException(string? code, string message) : Exception(message)
{
    public string? Code { get; } = code;
}
