using System.Text.Json;

namespace Switchboard.Tests.Infrastructure;

/// <summary>Small protocol facts the tests compute or check again and again.</summary>
public static class Protocol
{
    /// <summary>The id of the direct conversation of two users: the smaller id (ordinal) first.</summary>
    public static string Dm(string a, string b) =>
        string.CompareOrdinal(a, b) < 0 ? $"dm:{a}:{b}" : $"dm:{b}:{a}";

    public static string Group(string group) => $"group:{group}";

    /// <summary>Asserts an RFC 7807 problem with the protocol's status and <c>code</c>.</summary>
    public static void AssertProblem((int Status, JsonElement Body) reply, int status, string code)
    {
        Assert.True(reply.Status == status, $"expected HTTP {status}, got {reply.Status}: {reply.Body}");
        Assert.Equal(JsonValueKind.Object, reply.Body.ValueKind);
        Assert.Equal(status, reply.Body.GetProperty("status").GetInt32());
        Assert.Equal(code, reply.Body.Str("code"));
    }

    /// <summary>Asserts an <c>error</c> frame with <paramref name="code"/> answering <paramref name="id"/> (null: <c>"id":null</c>).</summary>
    public static void AssertError(JsonElement frame, string? id, string code)
    {
        Assert.True(frame.Type() == "error", $"expected an error frame, got {frame}");
        Assert.Equal(code, frame.Str("code"));
        Assert.False(string.IsNullOrEmpty(frame.Str("message")));
        if (id is null)
        {
            Assert.Equal(JsonValueKind.Null, frame.GetProperty("id").ValueKind);
        }
        else
        {
            Assert.Equal(id, frame.Str("id"));
        }
    }

    /// <summary>The seq numbers of <paramref name="frames"/>, in order.</summary>
    public static long[] Seqs(IEnumerable<JsonElement> frames) => [.. frames.Select(f => f.GetProperty("seq").GetInt64())];
}
