using System.Buffers;
using System.Text;
using Switchboard.Silo.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>What the connection layer takes as a plain <c>/ws</c> upgrade, and what it leaves to HTTP.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class UpgradeHeadTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string Headers = $"Host: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {Key}\r\n";

    [Fact]
    public void A_plain_upgrade_is_parsed_with_its_token_origin_and_forwarded_address()
    {
        var text = $"GET /ws?access_token=a.b.c&x=1 HTTP/1.1\r\n{Headers}origin: https://o.example\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n\r\n";

        var bytes = Bytes(text + "rest");
        var result = UpgradeHead.TryParse(bytes, out var head, out var length);

        Assert.Equal(UpgradeHead.Result.Parsed, result);
        Assert.Equal("a.b.c", head!.QueryToken);
        Assert.Null(head.Authorization);
        Assert.Equal("https://o.example", head.Origin);
        Assert.Equal("10.0.0.1, 10.0.0.2", head.ForwardedFor);
        Assert.Equal(Key, head.Key);
        Assert.Equal(text.Length, length);
    }

    [Theory]
    [InlineData("GET /w")]
    [InlineData("GET /ws HTTP/1.1\r\nHost: h\r\n")]
    [InlineData("")]
    public void A_head_that_may_still_become_an_upgrade_needs_more(string partial) =>
        Assert.Equal(UpgradeHead.Result.NeedMore, UpgradeHead.TryParse(Bytes(partial), out _, out _));

    public static TheoryData<string> NotOurs() => new()
    {
        "POST /ws HTTP/1.1\r\n" + Headers + "\r\n",
        "GET /api/users HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /wsx HTTP/1.1\r\n" + Headers + "\r\n",
        "GET /ws HTTP/1.0\r\n" + Headers + "\r\n",
        "GET /w%73 HTTP/1.1\r\n" + Headers + "\r\n",
        "GET /ws HTTP/1.1\r\n" + Headers + "Authorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n",
        "GET /ws HTTP/1.1\r\n" + Headers + "Content-Length: 3\r\n\r\n",
        "GET /ws HTTP/1.1\r\n" + Headers + "X-Long: a\r\n folded\r\n\r\n",
        "GET /ws HTTP/1.1\r\n" + Headers.Replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8") + "\r\n",
        "GET /ws HTTP/1.1\r\n" + Headers.Replace(Key, "short") + "\r\n",
        "GET /ws HTTP/1.1\r\n" + Headers.Replace("Host: h\r\n", string.Empty) + "\r\n",
        "GET /ws HTTP/1.1\r\n" + Headers.Replace("keep-alive, Upgrade", "keep-alive") + "\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    };

    [Theory]
    [MemberData(nameof(NotOurs))]
    public void Anything_else_is_left_to_HTTP(string text) =>
        Assert.Equal(UpgradeHead.Result.NotOurs, UpgradeHead.TryParse(Bytes(text), out _, out _));

    [Fact]
    public void A_head_split_across_segments_is_parsed()
    {
        var text = $"GET /ws/ HTTP/1.1\r\n{Headers}Authorization: Bearer t\r\n\r\n";
        var first = new Segment(Encoding.ASCII.GetBytes(text[..30]));
        var last = first.Append(Encoding.ASCII.GetBytes(text[30..]));

        var result = UpgradeHead.TryParse(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length), out var head, out _);

        Assert.Equal(UpgradeHead.Result.Parsed, result);
        Assert.Equal("Bearer t", head!.Authorization);
    }

    [Fact]
    public void A_head_longer_than_the_limit_is_left_to_HTTP()
    {
        var text = $"GET /ws HTTP/1.1\r\n{Headers}X-Pad: {new string('a', UpgradeHead.MaxLength)}\r\n\r\n";

        Assert.Equal(UpgradeHead.Result.NotOurs, UpgradeHead.TryParse(Bytes(text), out _, out _));
    }

    [Fact]
    public void The_accept_key_is_the_one_RFC_6455_gives_for_its_sample() =>
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", UpgradeHead.AcceptKey(Key));

    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.ASCII.GetBytes(text));

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
