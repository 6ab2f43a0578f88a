using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md "Frames": ping, errors that keep the socket open, binary and oversized messages.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class FrameTests(SiloHostFixture host)
{
    private const int Limit = 65_536;

    [Fact]
    public async Task A_ping_gets_a_pong_with_the_same_id()
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        var reply = await socket.RequestAsync(new { type = "ping", id = "p-1" });

        Assert.Equal("pong", reply.Type());
        Assert.Equal("p-1", reply.Str("id"));
    }

    [Fact]
    public async Task An_unknown_type_gets_bad_request_and_the_socket_stays_open()
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        var reply = await socket.RequestAsync(new { type = "dance", id = "d-1" });

        Protocol.AssertError(reply, "d-1", "bad_request");
        await socket.PingAsync();
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task A_request_without_a_type_gets_bad_request_with_its_id()
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        var reply = await socket.RequestAsync(new { id = "t-1" });

        Protocol.AssertError(reply, "t-1", "bad_request");
        await socket.PingAsync();
    }

    [Theory]
    [InlineData("{\"type\":\"ping\",\"id\":")]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"type\":\"ping\",\"id\":\"a\"} {\"type\":\"ping\",\"id\":\"b\"}")]
    public async Task Malformed_JSON_gets_an_error_with_a_null_id_and_the_socket_stays_open(string text)
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        await socket.SendTextAsync(text);
        var error = await socket.WaitForAsync(f => f.Type() == "error", "the error frame");

        Protocol.AssertError(error, null, "bad_request");
        await socket.PingAsync();
    }

    [Theory]
    [InlineData("{\"type\":\"ping\"}")]
    [InlineData("{\"type\":\"ping\",\"id\":\"\"}")]
    [InlineData("{\"type\":\"ping\",\"id\":42}")]
    public async Task A_request_without_a_valid_id_gets_an_error_with_a_null_id(string text)
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        await socket.SendTextAsync(text);
        var error = await socket.WaitForAsync(f => f.Type() == "error", "the error frame");

        Protocol.AssertError(error, null, "bad_request");
        Assert.DoesNotContain(socket.Frames, f => f.Type() == "pong");
        await socket.PingAsync();
    }

    [Fact]
    public async Task An_id_of_64_characters_is_echoed_and_one_of_65_is_refused()
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));
        var longest = new string('x', 64);

        var pong = await socket.RequestAsync(new { type = "ping", id = longest });
        await socket.SendAsync(new { type = "ping", id = new string('y', 65) });
        var error = await socket.WaitForAsync(f => f.Type() == "error", "the error frame");

        Assert.Equal("pong", pong.Type());
        Protocol.AssertError(error, null, "bad_request");
    }

    [Fact]
    public async Task A_binary_message_closes_the_socket_with_1003()
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        await socket.SendRawAsync(Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"id\":\"b-1\"}"), WebSocketMessageType.Binary);

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await socket.WaitForCloseAsync());
        Assert.DoesNotContain(socket.Frames, f => f.Type() == "pong");
    }

    [Fact]
    public async Task A_message_of_exactly_65536_bytes_is_accepted()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);
        var frame = SendFrameOfSize($"user:{bob}", "big-1", Limit);

        await a.SendRawAsync(frame, WebSocketMessageType.Text);
        var ack = await a.WaitForAsync(f => f.Str("id") == "big-1", "the ack of the 65,536-byte send");

        Assert.Equal("ack", ack.Type());
        var message = await b.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
        Assert.Equal(JsonDocument.Parse(frame).RootElement.GetProperty("body").GetString(), message.GetProperty("body").GetString());
    }

    [Fact]
    public async Task A_message_over_65536_bytes_closes_the_socket_with_1009_and_is_not_stored()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);

        await a.SendRawAsync(SendFrameOfSize($"user:{bob}", "big-2", Limit + 1), WebSocketMessageType.Text);

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await a.WaitForCloseAsync());
        Assert.DoesNotContain(a.Frames, f => f.Type() == "ack");
        var history = await host.Api.GetAsync($"/api/conversations/{Protocol.Dm(alice, bob)}/messages", await host.Api.TokenAsync(alice));
        Assert.Equal(200, history.Status);
        Assert.Equal(0, history.Body.GetArrayLength());
    }

    [Fact]
    public async Task A_message_over_the_limit_sent_in_fragments_closes_the_socket_with_1009()
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));
        var frame = SendFrameOfSize("user:bob", "big-3", Limit + 4096);

        // The limit is on the whole message, however the client fragments it.
        try
        {
            await socket.SendFragmentsAsync(frame, 1024);
        }
        catch (WebSocketException)
        {
            // The server may close before the last fragments are out: that cuts the sending short, as it should.
        }

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await socket.WaitForCloseAsync());
    }

    // The server waits for each message with a zero-byte read and takes a buffer only once a frame has begun:
    // whatever shape the next message has, it is read whole.

    [Fact]
    public async Task A_large_fragmented_message_after_an_idle_wait_is_read_whole()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);

        // Answered, so the server is back in its wait for the next message.
        await a.PingAsync();
        var frame = SendFrameOfSize($"user:{bob}", "idle-big", Limit);
        await a.SendFragmentsAsync(frame, 3000);
        var ack = await a.WaitForAsync(f => f.Str("id") == "idle-big", "the ack of the fragmented send");

        Assert.Equal("ack", ack.Type());
        var message = await b.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
        Assert.Equal(JsonDocument.Parse(frame).RootElement.GetProperty("body").GetString(), message.GetProperty("body").GetString());
    }

    [Fact]
    public async Task A_message_whose_first_frame_is_empty_is_read_whole()
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));
        var ping = Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"id\":\"e-1\"}");

        await socket.SendFramesAsync([[], ping[..10], [], ping[10..]]);
        var pong = await socket.WaitForAsync(f => f.Str("id") == "e-1", "the pong");

        Assert.Equal("pong", pong.Type());
    }

    [Fact]
    public async Task An_empty_message_gets_bad_request_and_the_next_one_is_answered()
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));

        await socket.SendTextAsync(string.Empty);
        var error = await socket.WaitForAsync(f => f.Type() == "error", "the error frame");

        Protocol.AssertError(error, null, "bad_request");
        await socket.PingAsync();
    }

    [Fact]
    public async Task Messages_sent_back_to_back_are_all_answered_in_order()
    {
        await using var socket = await host.ConnectAsync(SiloHostFixture.NewId("alice"));
        var ids = Enumerable.Range(0, 50).Select(i => $"burst-{i}").ToList();

        // Sent without waiting for replies, several frames arrive in one read: the wait must not stall on bytes
        // the server has already buffered.
        foreach (var id in ids)
        {
            await socket.SendAsync(new { type = "ping", id });
        }

        await socket.WaitForAsync(f => f.Str("id") == ids[^1], "the last pong");
        Assert.Equal(ids, socket.Frames.Where(f => f.Type() == "pong").Select(f => f.Str("id")));
    }

    /// <summary>A <c>send</c> frame whose UTF-8 JSON is exactly <paramref name="size"/> bytes.</summary>
    private static byte[] SendFrameOfSize(string to, string id, int size)
    {
        var empty = $"{{\"type\":\"send\",\"id\":\"{id}\",\"to\":\"{to}\",\"body\":\"\"}}";
        var padding = size - Encoding.UTF8.GetByteCount(empty);
        var frame = Encoding.UTF8.GetBytes($"{{\"type\":\"send\",\"id\":\"{id}\",\"to\":\"{to}\",\"body\":\"{new string('a', padding)}\"}}");
        Assert.Equal(size, frame.Length);
        return frame;
    }
}
