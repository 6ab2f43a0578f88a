using System.Buffers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Switchboard.Silo.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>
/// Which layer takes a <c>/ws</c> upgrade: the Kestrel connection for a plain upgrade (the usual case), HTTP for an
/// upgrade on a connection that served another request first; bytes that follow the head belong to the socket.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(RestrictedHostCollection.Name)]
public sealed class ConnectionUpgradeTests(RestrictedHostFixture host)
{
    private const string Instrument = "switchboard.sockets.opened";

    [Fact]
    public async Task A_plain_upgrade_is_taken_at_the_connection_layer()
    {
        using var connectionLayer = new MeterCounter(host.Factory.Services, "Switchboard.Silo", Instrument, ("layer", WebSocketEndpoint.ConnectionLayer));
        using var httpLayer = new MeterCounter(host.Factory.Services, "Switchboard.Silo", Instrument, ("layer", WebSocketEndpoint.HttpLayer));
        var alice = SiloHostFixture.NewId("alice");

        await using var socket = await host.ConnectAsync(alice);
        await socket.PingAsync();

        await Wait.UntilAsync(() => connectionLayer.Total == 1, "the socket counted at the connection layer");
        Assert.Equal(0, httpLayer.Total);
        Assert.Equal(alice, socket.Welcome.Str("user"));
    }

    [Fact]
    public async Task An_upgrade_after_another_request_on_the_same_connection_is_taken_by_HTTP()
    {
        using var httpLayer = new MeterCounter(host.Factory.Services, "Switchboard.Silo", Instrument, ("layer", WebSocketEndpoint.HttpLayer));
        var alice = SiloHostFixture.NewId("alice");
        await using var raw = await RawConnection.OpenAsync(host.BaseAddress);

        await raw.WriteAsync("GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n");
        var (status, _) = await raw.ReadResponseHeadAsync();
        Assert.StartsWith("HTTP/1.1 200", status);
        await raw.WriteAsync(UpgradeHead(TestTokens.Mint(alice)));
        (status, _) = await raw.ReadResponseHeadAsync();

        Assert.StartsWith("HTTP/1.1 101", status);
        var welcome = await raw.ReadTextFrameAsync();
        Assert.Equal("welcome", welcome.Type());
        Assert.Equal(alice, welcome.Str("user"));
        await Wait.UntilAsync(() => httpLayer.Total == 1, "the socket counted at the HTTP layer");
    }

    [Fact]
    public async Task A_frame_sent_together_with_the_upgrade_head_is_the_sockets_first_frame()
    {
        using var connectionLayer = new MeterCounter(host.Factory.Services, "Switchboard.Silo", Instrument, ("layer", WebSocketEndpoint.ConnectionLayer));
        var alice = SiloHostFixture.NewId("alice");
        await using var raw = await RawConnection.OpenAsync(host.BaseAddress);

        var head = Encoding.ASCII.GetBytes(UpgradeHead(TestTokens.Mint(alice)));
        var ping = RawConnection.MaskedTextFrame("""{"type":"ping","id":"early"}""");
        await raw.WriteAsync([.. head, .. ping]);
        var (status, headers) = await raw.ReadResponseHeadAsync();

        Assert.StartsWith("HTTP/1.1 101", status);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", headers);
        Assert.Equal("welcome", (await raw.ReadTextFrameAsync()).Type());
        var pong = await raw.ReadTextFrameAsync();
        Assert.Equal("pong", pong.Type());
        Assert.Equal("early", pong.Str("id"));
        Assert.Equal(1, connectionLayer.Total);
    }

    [Fact]
    public async Task A_refused_plain_upgrade_is_answered_by_HTTP_with_its_status()
    {
        using var connectionLayer = new MeterCounter(host.Factory.Services, "Switchboard.Silo", Instrument, ("layer", WebSocketEndpoint.ConnectionLayer));
        await using var raw = await RawConnection.OpenAsync(host.BaseAddress);

        await raw.WriteAsync(UpgradeHead("not-a-token"));
        var (status, headers) = await raw.ReadResponseHeadAsync();

        Assert.StartsWith("HTTP/1.1 401", status);
        Assert.Contains("application/problem+json", headers);
        Assert.Equal(0, connectionLayer.Total);
    }

    // The sample key of RFC 6455, 1.3 (its accept value is asserted above).
    private static string UpgradeHead(string token) =>
        "GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer {token}\r\n\r\n";

    /// <summary>A TCP connection speaking HTTP/1.1 and WebSocket frames by hand.</summary>
    private sealed class RawConnection(TcpClient client) : IAsyncDisposable
    {
        private readonly NetworkStream _stream = client.GetStream();
        private readonly List<byte> _pending = [];

        public static async Task<RawConnection> OpenAsync(Uri baseAddress)
        {
            var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(baseAddress.Host, baseAddress.Port);
            return new RawConnection(client);
        }

        public static byte[] MaskedTextFrame(string text)
        {
            var payload = Encoding.UTF8.GetBytes(text);
            Assert.True(payload.Length < 126);
            byte[] mask = [1, 2, 3, 4];
            var frame = new byte[2 + 4 + payload.Length];
            frame[0] = 0x81;
            frame[1] = (byte)(0x80 | payload.Length);
            mask.CopyTo(frame, 2);
            for (var i = 0; i < payload.Length; i++)
            {
                frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
            }

            return frame;
        }

        public Task WriteAsync(string text) => WriteAsync(Encoding.ASCII.GetBytes(text));

        public async Task WriteAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

        /// <summary>The status line and the header block of the next response; its body (by Content-Length, or chunked) is read and dropped.</summary>
        public async Task<(string Status, string Headers)> ReadResponseHeadAsync()
        {
            int end;
            while ((end = IndexOf("\r\n\r\n"u8)) < 0)
            {
                await FillAsync();
            }

            var head = Encoding.ASCII.GetString([.. _pending[..end]]);
            _pending.RemoveRange(0, end + 4);
            var lines = head.Split("\r\n");
            if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
            {
                while ((end = IndexOf("0\r\n\r\n"u8)) < 0)
                {
                    await FillAsync();
                }

                _pending.RemoveRange(0, end + 5);
                return (lines[0], string.Join("\n", lines.Skip(1)));
            }

            var length = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(p => int.Parse(p[1].Trim())).FirstOrDefault();
            while (_pending.Count < length)
            {
                await FillAsync();
            }

            _pending.RemoveRange(0, length);
            return (lines[0], string.Join("\n", lines.Skip(1)));
        }

        /// <summary>The next server frame, which must be an unmasked, unfragmented text frame.</summary>
        public async Task<JsonElement> ReadTextFrameAsync()
        {
            while (_pending.Count < 2)
            {
                await FillAsync();
            }

            Assert.Equal(0x81, _pending[0]);
            var length = _pending[1] & 0x7f;
            Assert.True(length < 127, "frames here are short (no 64-bit length)");
            var offset = 2;
            if (length == 126)
            {
                while (_pending.Count < 4)
                {
                    await FillAsync();
                }

                length = (_pending[2] << 8) | _pending[3];
                offset = 4;
            }

            while (_pending.Count < offset + length)
            {
                await FillAsync();
            }

            var json = JsonDocument.Parse(_pending.GetRange(offset, length).ToArray()).RootElement.Clone();
            _pending.RemoveRange(0, offset + length);
            return json;
        }

        public ValueTask DisposeAsync()
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        }

        private int IndexOf(ReadOnlySpan<byte> value) => _pending.ToArray().AsSpan().IndexOf(value);

        private async Task FillAsync()
        {
            using var timeout = new CancellationTokenSource(Wait.DefaultTimeout);
            var buffer = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                var read = await _stream.ReadAsync(buffer, timeout.Token);
                Assert.True(read > 0, "the server closed the connection");
                _pending.AddRange(buffer.AsSpan(0, read));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
