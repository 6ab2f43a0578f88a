using System.Text;
using Switchboard.Silo.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Contracts;

/// <summary>Client frames as docs/protocol.md writes them: one JSON object, unknown fields ignored, the body kept raw.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class ClientFrameTests
{
    public static TheoryData<string> Bodies => new()
    {
        """{"text":"hello"}""",
        """{ "nested" : { "list" : [ 1, 2.5e3, -0, "x" ] }, "flag" : false }""",
        "{}",
        """[1,"two",{"three":3},[],null]""",
        "[ ]",
        "\"plain text\"",
        "\"escaped \\\" \\\\ \\n \\u00e9 and raw é 😀\"",
        "\"\"",
        "42",
        "-12.5e-3",
        "0",
        "true",
        "false",
        "null",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void TryParse_send_keeps_the_raw_body_bytes_of_every_json_kind(string body)
    {
        var frame = Parse($$"""{"type":"send","id":"m-1","to":"user:bob","body":{{body}}}""");

        Assert.Equal(ClientFrameType.Send, frame.Type);
        Assert.Equal("send", frame.TypeName);
        Assert.Equal("m-1", frame.Id);
        Assert.Equal("user:bob", frame.To);
        Assert.Equal(body, Encoding.UTF8.GetString(frame.Body!));
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public void TryParse_send_keeps_the_raw_body_wherever_it_stands_and_whatever_the_whitespace(string body)
    {
        var frame = Parse($$"""  { "body" :  {{body}}  ,  "type" : "send" , "to" : "group:g" , "id" : "m-2" }  """);

        Assert.Equal(ClientFrameType.Send, frame.Type);
        Assert.Equal("group:g", frame.To);
        Assert.Equal("m-2", frame.Id);
        Assert.Equal(body, Encoding.UTF8.GetString(frame.Body!));
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public void TryParse_send_keeps_the_raw_body_when_it_is_the_last_field(string body)
    {
        var frame = Parse("{\"type\":\"send\",\"id\":\"m-3\",\"to\":\"user:bob\",\"body\":" + body + "\r\n\t}\n");

        Assert.Equal(body, Encoding.UTF8.GetString(frame.Body!));
    }

    [Fact]
    public void TryParse_send_without_a_body_leaves_it_null()
    {
        var frame = Parse("""{"type":"send","id":"m-4","to":"user:bob"}""");

        Assert.Null(frame.Body);
    }

    [Theory]
    [InlineData("ping", ClientFrameType.Ping)]
    [InlineData("join", ClientFrameType.Join)]
    [InlineData("leave", ClientFrameType.Leave)]
    [InlineData("resume", ClientFrameType.Resume)]
    [InlineData("send", ClientFrameType.Send)]
    [InlineData("Send", ClientFrameType.Unknown)]
    [InlineData("subscribe", ClientFrameType.Unknown)]
    public void TryParse_reads_the_type(string type, ClientFrameType expected)
    {
        var frame = Parse($$"""{"type":"{{type}}","id":"x"}""");

        Assert.Equal(expected, frame.Type);
        Assert.Equal(type, frame.TypeName);
    }

    [Fact]
    public void TryParse_without_a_type_is_unknown()
    {
        var frame = Parse("""{"id":"x"}""");

        Assert.Equal(ClientFrameType.Unknown, frame.Type);
        Assert.Null(frame.TypeName);
    }

    [Fact]
    public void TryParse_reads_the_group_of_join_and_leave()
    {
        var frame = Parse("""{"type":"join","id":"j-1","group":"class-7b"}""");

        Assert.Equal(ClientFrameType.Join, frame.Type);
        Assert.Equal("class-7b", frame.Group);
    }

    [Fact]
    public void TryParse_ignores_unknown_fields_of_every_kind()
    {
        var frame = Parse("""
            {"extra":{"deep":[1,{"id":"inner","body":0}]},"type":"send","n":1,"id":"m-5","list":[{"to":"user:mallory"}],
             "to":"user:bob","s":"str","body":{"k":"v"},"t":true,"z":null,"Type":"ping","ID":"shout"}
            """);

        Assert.Equal(ClientFrameType.Send, frame.Type);
        Assert.Equal("m-5", frame.Id);
        Assert.Equal("user:bob", frame.To);
        Assert.Equal("""{"k":"v"}""", Encoding.UTF8.GetString(frame.Body!));
    }

    [Fact]
    public void TryParse_ignores_from()
    {
        var frame = Parse("""{"type":"send","id":"m-6","from":"mallory","to":"user:bob","body":1}""");

        Assert.Equal(ClientFrameType.Send, frame.Type);
        Assert.Equal("m-6", frame.Id);
        Assert.Equal("user:bob", frame.To);
        Assert.Equal("1", Encoding.UTF8.GetString(frame.Body!));
        Assert.DoesNotContain(typeof(ClientFrame).GetProperties(), p => p.Name == "From");
    }

    [Fact]
    public void TryParse_reads_escaped_strings()
    {
        var frame = Parse("""{"\u0074ype":"send","id":"\u00e9-\"q\"","to":"user:b\u006fb","body":0}""");

        Assert.Equal(ClientFrameType.Send, frame.Type);
        Assert.Equal("é-\"q\"", frame.Id);
        Assert.Equal("user:bob", frame.To);
    }

    [Theory]
    [InlineData("r")]
    [InlineData("550e8400-e29b-41d4-a716-446655440000")]
    [InlineData("with spaces: ok")]
    public void TryParse_keeps_a_well_formed_id(string id)
    {
        Assert.Equal(id, Parse($$"""{"type":"ping","id":"{{id}}"}""").Id);
    }

    [Fact]
    public void TryParse_keeps_an_id_of_64_characters()
    {
        var id = new string('i', 64);

        Assert.Equal(id, Parse($$"""{"type":"ping","id":"{{id}}"}""").Id);
    }

    [Fact]
    public void TryParse_drops_an_id_longer_than_64_characters()
    {
        var frame = Parse($$"""{"type":"ping","id":"{{new string('i', 65)}}"}""");

        Assert.Null(frame.Id);
        Assert.Equal(ClientFrameType.Ping, frame.Type);
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"a\\nb\"")]
    [InlineData("\"\\u0000\"")]
    [InlineData("7")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("[\"x\"]")]
    [InlineData("{\"id\":\"x\"}")]
    public void TryParse_drops_an_id_that_is_empty_has_control_characters_or_is_not_a_string(string id)
    {
        var frame = Parse($$"""{"type":"ping","id":{{id}}}""");

        Assert.Null(frame.Id);
        Assert.Equal(ClientFrameType.Ping, frame.Type);
    }

    [Fact]
    public void TryParse_reads_the_since_map_of_resume()
    {
        var frame = Parse("""{"type":"resume","id":"r-1","since":{"dm:alice:bob":12,"group:g":0,"group:big":9223372036854775807}}""");

        Assert.Equal(ClientFrameType.Resume, frame.Type);
        Assert.Null(frame.SinceError);
        Assert.Equal(
            new Dictionary<string, long> { ["dm:alice:bob"] = 12, ["group:g"] = 0, ["group:big"] = long.MaxValue },
            frame.Since);
    }

    [Fact]
    public void TryParse_reads_an_empty_since_map()
    {
        var frame = Parse("""{"type":"resume","id":"r-2","since":{}}""");

        Assert.NotNull(frame.Since);
        Assert.Empty(frame.Since);
        Assert.Null(frame.SinceError);
    }

    [Fact]
    public void TryParse_without_since_leaves_it_null_without_error()
    {
        var frame = Parse("""{"type":"resume","id":"r-3"}""");

        Assert.Null(frame.Since);
        Assert.Null(frame.SinceError);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("1e2")]
    [InlineData("1.0")]
    [InlineData("9223372036854775808")]
    [InlineData("\"3\"")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("[3]")]
    [InlineData("{\"seq\":3}")]
    public void TryParse_sets_SinceError_for_a_seq_that_is_not_a_whole_number_of_at_least_0(string seq)
    {
        var frame = Parse($$$"""{"type":"resume","id":"r-4","since":{"group:ok":1,"dm:a:b":{{{seq}}},"group:after":2}}""");

        Assert.Equal(ClientFrameType.Resume, frame.Type);
        Assert.Equal("r-4", frame.Id);
        Assert.Null(frame.Since);
        Assert.NotNull(frame.SinceError);
        Assert.Contains("dm:a:b", frame.SinceError);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"group:g\":1}]")]
    [InlineData("\"group:g\"")]
    [InlineData("3")]
    [InlineData("null")]
    public void TryParse_sets_SinceError_when_since_is_not_an_object(string since)
    {
        var frame = Parse($$"""{"type":"resume","id":"r-5","since":{{since}},"group":"after"}""");

        Assert.Null(frame.Since);
        Assert.NotNull(frame.SinceError);
        Assert.Equal("r-5", frame.Id);
        Assert.Equal("after", frame.Group);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"type\":\"ping\",\"id\":\"x\"}]")]
    [InlineData("\"ping\"")]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("null")]
    public void TryParse_rejects_a_frame_that_is_not_an_object(string json)
    {
        AssertRejected(json);
    }

    [Theory]
    [InlineData("""{"type":"ping","id":"x"} x""")]
    [InlineData("""{"type":"ping","id":"x"}{}""")]
    [InlineData("""{"type":"ping","id":"x"}{"type":"ping","id":"y"}""")]
    [InlineData("""{"type":"ping","id":"x"} 1""")]
    [InlineData("""{"type":"ping","id":"x"}]""")]
    [InlineData("""{"type":"ping","id":"x"}}""")]
    [InlineData("""{"type":"ping","id":"x"},""")]
    public void TryParse_rejects_trailing_garbage(string json)
    {
        AssertRejected(json);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("""{"type":"ping","id":"x" """)]
    [InlineData("{\"type\":\"ping\",\"id\":\"")]
    [InlineData("""{"type":"send","id":"x","body":{"a":1}""")]
    [InlineData("""{"type":"send","id":"x","body":}""")]
    [InlineData("""{"type":"ping","id":"x",}""")]
    [InlineData("""{'type':'ping','id':'x'}""")]
    [InlineData("""{type:"ping"}""")]
    [InlineData("""{"type":"ping" "id":"x"}""")]
    [InlineData("""{"type":"ping","id":"x"} // comment""")]
    [InlineData("""{"type":"send","id":"x","body":[1,2}""")]
    [InlineData("""{"type":"send","id":"x","body":tru}""")]
    [InlineData("""{"type":"send","id":"x","body":NaN}""")]
    [InlineData("""{"type":"send","id":"x","body":01}""")]
    [InlineData("""{"type":"send","id":"x","body":"unterminated}""")]
    public void TryParse_rejects_invalid_json(string json)
    {
        AssertRejected(json);
    }

    [Fact]
    public void TryParse_rejects_a_body_nested_deeper_than_64_levels()
    {
        var deep = new string('[', 70) + new string(']', 70);

        AssertRejected($$"""{"type":"send","id":"x","to":"user:b","body":{{deep}}}""");
    }

    [Fact]
    public void TryParse_rejects_invalid_utf8()
    {
        byte[] json = [.. "{\"type\":\"ping\",\"id\":\""u8, 0xFF, 0xFE, .. "\"}"u8];

        Assert.False(ClientFrame.TryParse(json, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("""{"type":"ping","id":"\ud800"}""")]
    [InlineData("""{"type":"ping","id":"ok\udc00"}""")]
    [InlineData("""{"type":"\ud800","id":"x"}""")]
    [InlineData("""{"type":"send","id":"x","to":"user:\ud800","body":1}""")]
    [InlineData("""{"type":"join","id":"x","group":"\ud800"}""")]
    [InlineData("""{"type":"resume","id":"x","since":{"\ud800":1}}""")]
    public void TryParse_does_not_throw_on_a_lone_surrogate_escape(string json)
    {
        // Either answer is within the protocol (reject the frame, or read the field as malformed); throwing is not.
        var parsed = ClientFrame.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error);

        Assert.True(parsed || !string.IsNullOrEmpty(error));
    }

    [Fact]
    public void TryParse_ignores_an_unknown_field_whose_name_has_a_lone_surrogate_escape()
    {
        var frame = Parse("""{"\ud800":1,"type":"ping","id":"x"}""");

        Assert.Equal(ClientFrameType.Ping, frame.Type);
        Assert.Equal("x", frame.Id);
    }

    [Fact]
    public void TryParse_keeps_a_body_with_a_lone_surrogate_escape_raw()
    {
        var frame = Parse("""{"type":"send","id":"x","to":"user:b","body":"\ud800"}""");

        Assert.Equal("\"\\ud800\"", Encoding.UTF8.GetString(frame.Body!));
    }

    [Theory]
    [InlineData("""{"type":"read","id":"r1","conversation":"dm:alice:bob","seq":17}""", ClientFrameType.Read, 17L)]
    [InlineData("""{"type":"read","id":"r1","conversation":"dm:alice:bob","seq":-1}""", ClientFrameType.Read, null)]
    [InlineData("""{"type":"read","id":"r1","conversation":"dm:alice:bob","seq":"17"}""", ClientFrameType.Read, null)]
    [InlineData("""{"type":"read","id":"r1","conversation":"dm:alice:bob","seq":1.5}""", ClientFrameType.Read, null)]
    [InlineData("""{"type":"typing","conversation":"dm:alice:bob"}""", ClientFrameType.Typing, null)]
    public void TryParse_reads_the_conversation_and_seq_of_read_and_typing(string json, ClientFrameType type, long? seq)
    {
        var frame = Parse(json);

        Assert.Equal(type, frame.Type);
        Assert.Equal("dm:alice:bob", frame.Conversation);
        Assert.Equal(seq, frame.Seq);
    }

    private static ClientFrame Parse(string json)
    {
        Assert.True(ClientFrame.TryParse(Encoding.UTF8.GetBytes(json), out var frame, out var error), $"rejected: {error}");
        Assert.Equal(string.Empty, error);
        return frame;
    }

    private static void AssertRejected(string json)
    {
        Assert.False(ClientFrame.TryParse(Encoding.UTF8.GetBytes(json), out var frame, out var error));
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Null(frame.Id);
    }
}
