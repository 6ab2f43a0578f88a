using System.Globalization;
using System.Text;
using System.Text.Json;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Silo.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Contracts;

/// <summary>The server's frames parse as JSON and carry exactly the fields docs/protocol.md lists.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class ServerFrameTests
{
    [Fact]
    public void Welcome_has_user_connection_node_the_logs_epoch_and_the_protocol_version()
    {
        using var frame = ParseFrame(ServerFrames.Welcome("alice", "c0ffee", "silo-1", "5eed"));

        AssertFields(frame, "type", "user", "connection", "node", "epoch", "protocol");
        Assert.Equal("1.1", Str(frame, "protocol"));
        Assert.Equal("5eed", Str(frame, "epoch"));
        Assert.Equal("welcome", Str(frame, "type"));
        Assert.Equal("alice", Str(frame, "user"));
        Assert.Equal("c0ffee", Str(frame, "connection"));
        Assert.Equal("silo-1", Str(frame, "node"));
    }

    [Fact]
    public void Ack_has_only_the_id()
    {
        using var frame = ParseFrame(ServerFrames.Ack("j-1"));

        AssertFields(frame, "type", "id");
        Assert.Equal("ack", Str(frame, "type"));
        Assert.Equal("j-1", Str(frame, "id"));
    }

    [Fact]
    public void SendAck_has_the_conversation_and_seq()
    {
        var conversation = ConversationId.Direct(new UserId("bob"), new UserId("alice"));

        using var frame = ParseFrame(ServerFrames.SendAck("m-1", conversation, 9_007_199_254_740_993));

        AssertFields(frame, "type", "id", "conversation", "seq");
        Assert.Equal("ack", Str(frame, "type"));
        Assert.Equal("m-1", Str(frame, "id"));
        Assert.Equal("dm:alice:bob", Str(frame, "conversation"));
        Assert.Equal(JsonValueKind.Number, frame.RootElement.GetProperty("seq").ValueKind);
        Assert.Equal(9_007_199_254_740_993, frame.RootElement.GetProperty("seq").GetInt64());
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void ResumeAck_has_recovered_and_more(bool recovered, bool more)
    {
        using var frame = ParseFrame(ServerFrames.ResumeAck("r-1", recovered, more));

        AssertFields(frame, "type", "id", "recovered", "more");
        Assert.Equal("ack", Str(frame, "type"));
        Assert.Equal("r-1", Str(frame, "id"));
        Assert.Equal(recovered, frame.RootElement.GetProperty("recovered").GetBoolean());
        Assert.Equal(more, frame.RootElement.GetProperty("more").GetBoolean());
    }

    [Fact]
    public void Pong_echoes_the_id()
    {
        using var frame = ParseFrame(ServerFrames.Pong("p-7"));

        AssertFields(frame, "type", "id");
        Assert.Equal("pong", Str(frame, "type"));
        Assert.Equal("p-7", Str(frame, "id"));
    }

    [Theory]
    [InlineData(ProtocolError.BadRequest, "bad_request")]
    [InlineData(ProtocolError.Unauthorized, "unauthorized")]
    [InlineData(ProtocolError.Forbidden, "forbidden")]
    [InlineData(ProtocolError.NotFound, "not_found")]
    [InlineData(ProtocolError.TooLarge, "too_large")]
    [InlineData(ProtocolError.RateLimited, "rate_limited")]
    [InlineData(ProtocolError.Unavailable, "unavailable")]
    public void Error_has_the_id_the_wire_code_and_a_message(ProtocolError code, string wire)
    {
        using var frame = ParseFrame(ServerFrames.Error("e-1", code, "Something went wrong."));

        AssertFields(frame, "type", "id", "code", "message");
        Assert.Equal("error", Str(frame, "type"));
        Assert.Equal("e-1", Str(frame, "id"));
        Assert.Equal(wire, Str(frame, "code"));
        Assert.Equal("Something went wrong.", Str(frame, "message"));
    }

    [Fact]
    public void Error_without_an_id_writes_id_null()
    {
        var bytes = ServerFrames.Error(null, ProtocolError.BadRequest, "A frame must be a JSON object.");
        using var frame = ParseFrame(bytes);

        AssertFields(frame, "type", "id", "code", "message");
        Assert.Equal(JsonValueKind.Null, frame.RootElement.GetProperty("id").ValueKind);
        Assert.Contains("\"id\":null", Encoding.UTF8.GetString(bytes));
        Assert.Equal("bad_request", Str(frame, "code"));
    }

    [Fact]
    public void Every_error_code_has_a_wire_name()
    {
        var names = Enum.GetValues<ProtocolError>().Select(c => c.ToWire()).ToList();

        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.Equivalent(
            new[] { "bad_request", "unauthorized", "forbidden", "not_found", "too_large", "rate_limited", "unavailable" },
            names);
    }

    [Theory]
    [InlineData("quote \" backslash \\ slash /")]
    [InlineData("newline \n tab \t nul \u0000")]
    [InlineData("<script>&'</script>")]
    [InlineData("ünïcödé 😀")]
    public void Strings_are_escaped_so_the_client_reads_back_what_was_sent(string text)
    {
        using var error = ParseFrame(ServerFrames.Error(text, ProtocolError.Forbidden, text));
        using var pong = ParseFrame(ServerFrames.Pong(text));

        Assert.Equal(text, Str(error, "id"));
        Assert.Equal(text, Str(error, "message"));
        Assert.Equal(text, Str(pong, "id"));
    }

    [Fact]
    public void Frames_written_one_after_another_do_not_share_bytes()
    {
        // The writer buffer is reused per thread: every frame must be its own copy.
        var first = ServerFrames.Ack("first");
        var copy = first.ToArray();
        _ = ServerFrames.Error("second-and-longer", ProtocolError.Unavailable, "retry with the same id");

        Assert.Equal(copy, first);
        using var frame = ParseFrame(first);
        Assert.Equal("first", Str(frame, "id"));
    }

    [Fact]
    public async Task Frames_written_on_many_threads_at_once_stay_whole()
    {
        var tasks = Enumerable.Range(0, 16).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                var id = $"t{t}-{i}";
                using var frame = ParseFrame(ServerFrames.SendAck(id, ConversationId.ForGroup(new GroupId("g")), i));
                Assert.Equal(id, Str(frame, "id"));
                Assert.Equal(i, frame.RootElement.GetProperty("seq").GetInt64());
            }
        }));

        await Task.WhenAll(tasks);
    }

    [Theory]
    [InlineData("""{"text":"hello"}""")]
    [InlineData("""{ "spaced" : [ 1 , 2 ] }""")]
    [InlineData("""[1,"two",null]""")]
    [InlineData("\"text with \\\"escapes\\\" and é\"")]
    [InlineData("-12.5e-3")]
    [InlineData("true")]
    [InlineData("false")]
    [InlineData("null")]
    public void Message_has_exactly_the_protocol_fields_and_the_raw_body(string body)
    {
        var message = new StoredMessage(
            ConversationId.Direct(new UserId("bob"), new UserId("alice")),
            17,
            new UserId("alice"),
            Recipient.ForUser(new UserId("bob")),
            "m-17",
            Encoding.UTF8.GetBytes(body),
            new DateTimeOffset(2026, 11, 25, 15, 1, 40, 123, TimeSpan.Zero));

        using var frame = ParseFrame(MessageFrame.Serialize(message));

        AssertFields(frame, "type", "conversation", "seq", "from", "to", "id", "body", "ts");
        Assert.Equal("message", Str(frame, "type"));
        Assert.Equal("dm:alice:bob", Str(frame, "conversation"));
        Assert.Equal(17, frame.RootElement.GetProperty("seq").GetInt64());
        Assert.Equal("alice", Str(frame, "from"));
        Assert.Equal("user:bob", Str(frame, "to"));
        Assert.Equal("m-17", Str(frame, "id"));
        Assert.Equal(body, frame.RootElement.GetProperty("body").GetRawText());
        Assert.Equal("2026-11-25T15:01:40.123Z", Str(frame, "ts"));
    }

    [Fact]
    public void Message_to_a_group_names_the_group_conversation()
    {
        var group = new GroupId("class-7b");
        var message = new StoredMessage(ConversationId.ForGroup(group), 1, new UserId("teacher"), Recipient.ForGroup(group), "g-1", "{}"u8.ToArray(), DateTimeOffset.UnixEpoch);

        using var frame = ParseFrame(MessageFrame.Serialize(message));

        Assert.Equal("group:class-7b", Str(frame, "conversation"));
        Assert.Equal("group:class-7b", Str(frame, "to"));
        Assert.Equal("teacher", Str(frame, "from"));
        Assert.Equal("1970-01-01T00:00:00.000Z", Str(frame, "ts"));
    }

    [Fact]
    public void Message_ts_is_utc_with_milliseconds_whatever_the_offset()
    {
        var local = new DateTimeOffset(2026, 3, 1, 0, 30, 5, TimeSpan.FromHours(2)).AddTicks(9_999);
        var message = new StoredMessage(ConversationId.ForGroup(new GroupId("g")), 1, new UserId("u"), Recipient.ForGroup(new GroupId("g")), "x", "0"u8.ToArray(), local);

        using var frame = ParseFrame(MessageFrame.Serialize(message));

        var ts = Str(frame, "ts")!;
        Assert.EndsWith("Z", ts);
        Assert.Equal("2026-02-28T22:30:05.000Z", ts);
        var parsed = DateTimeOffset.Parse(ts, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        Assert.Equal(TimeSpan.Zero, parsed.Offset);
        Assert.True((local - parsed).Duration() < TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public void Message_ts_matches_the_round_trip_format_for_any_instant()
    {
        var random = new Random(20261125);
        var instants = new List<DateTimeOffset> { DateTimeOffset.MinValue, DateTimeOffset.MaxValue, DateTimeOffset.UnixEpoch, new(999, 12, 31, 23, 59, 59, 999, TimeSpan.Zero) };
        for (var i = 0; i < 1000; i++)
        {
            instants.Add(new DateTimeOffset(random.NextInt64(DateTimeOffset.MinValue.Ticks, DateTimeOffset.MaxValue.Ticks), TimeSpan.Zero));
        }

        foreach (var instant in instants)
        {
            var expected = instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            Assert.Equal(expected, MessageFrame.FormatTimestamp(instant));
        }
    }

    [Fact]
    public void Serialize_returns_a_frame_of_its_own_after_a_large_body_and_between_small_ones()
    {
        StoredMessage With(string body) => new(ConversationId.ForGroup(new GroupId("g")), 1, new UserId("u"), Recipient.ForGroup(new GroupId("g")), "x", Encoding.UTF8.GetBytes(body), DateTimeOffset.UnixEpoch);
        var large = $"\"{new string('a', 60_000)}\"";

        var first = MessageFrame.Serialize(With("1"));
        var big = MessageFrame.Serialize(With(large));
        var second = MessageFrame.Serialize(With("[2]"));

        using (var frame = ParseFrame(first))
        {
            Assert.Equal("1", frame.RootElement.GetProperty("body").GetRawText());
        }

        using (var frame = ParseFrame(big))
        {
            Assert.Equal(large, frame.RootElement.GetProperty("body").GetRawText());
        }

        using (var frame = ParseFrame(second))
        {
            Assert.Equal("[2]", frame.RootElement.GetProperty("body").GetRawText());
        }
    }

    [Fact]
    public void Message_Write_matches_Serialize()
    {
        var message = new StoredMessage(ConversationId.ForGroup(new GroupId("g")), 5, new UserId("u"), Recipient.ForGroup(new GroupId("g")), "w", """[{"a":1}]"""u8.ToArray(), DateTimeOffset.UnixEpoch);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            MessageFrame.Write(writer, message);
        }

        Assert.Equal(MessageFrame.Serialize(message), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Messages_written_into_an_array_stay_valid_json()
    {
        // GET .../messages writes several message objects into one JSON array.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            for (var seq = 1; seq <= 3; seq++)
            {
                MessageFrame.Write(writer, new StoredMessage(ConversationId.ForGroup(new GroupId("g")), seq, new UserId("u"), Recipient.ForGroup(new GroupId("g")), $"m{seq}", Encoding.UTF8.GetBytes($"{{\"n\":{seq}}}"), DateTimeOffset.UnixEpoch));
            }

            writer.WriteEndArray();
        }

        using var array = JsonDocument.Parse(buffer.WrittenMemory);
        Assert.Equal([1L, 2L, 3L], array.RootElement.EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()));
        Assert.Equal(3, array.RootElement.EnumerateArray().Last().GetProperty("body").GetProperty("n").GetInt32());
    }

    private static JsonDocument ParseFrame(byte[] utf8) => JsonDocument.Parse(utf8);

    private static string? Str(JsonDocument frame, string name) => frame.RootElement.GetProperty(name).GetString();

    private static void AssertFields(JsonDocument frame, params string[] expected)
    {
        Assert.Equal(JsonValueKind.Object, frame.RootElement.ValueKind);
        var actual = frame.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
    }
}
