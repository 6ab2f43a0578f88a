using System.Buffers.Text;

namespace Switchboard.Bench.Load;

/// <summary>
/// Writes a <c>send</c> frame into a caller's buffer without allocating:
/// <c>{"type":"send","id":"&lt;run&gt;&lt;segment&gt;-&lt;n&gt;","to":"user:u7","body":{"p":"&lt;64 bytes&gt;","t":&lt;send time, Unix µs&gt;}}</c>.
/// The request id names the message's segment and number, so every reply and copy finds its record directly.
/// </summary>
internal static class SendFrame
{
    /// <summary>Room for the longest frame: 64-character ids and addresses, 20-digit numbers.</summary>
    public const int MaxLength = 512;

    /// <summary>The 64-byte string of every body, made once.</summary>
    private static readonly byte[] Padding = [.. Enumerable.Repeat((byte)'x', 64)];

    public static int Write(Span<byte> buffer, ReadOnlySpan<byte> runTag, int segment, int n, ReadOnlySpan<byte> to, long sendMicros)
    {
        var length = 0;
        Append(buffer, ref length, "{\"type\":\"send\",\"id\":\""u8);
        Append(buffer, ref length, runTag);
        AppendNumber(buffer, ref length, segment);
        buffer[length++] = (byte)'-';
        AppendNumber(buffer, ref length, n);
        Append(buffer, ref length, "\",\"to\":\""u8);
        Append(buffer, ref length, to);
        Append(buffer, ref length, "\",\"body\":{\"p\":\""u8);
        Append(buffer, ref length, Padding);
        Append(buffer, ref length, "\",\"t\":"u8);
        AppendNumber(buffer, ref length, sendMicros);
        Append(buffer, ref length, "}}"u8);
        return length;
    }

    /// <summary>
    /// Reads the segment and number out of a request id <see cref="Write"/> made with <paramref name="runTag"/>;
    /// false for any other id (another run's, or not a message's).
    /// </summary>
    public static bool TryParseId(ReadOnlySpan<byte> id, ReadOnlySpan<byte> runTag, out int segment, out int n)
    {
        n = -1;
        if (!id.StartsWith(runTag) || !Utf8Parser.TryParse(id[runTag.Length..], out segment, out var consumed) || segment < 0)
        {
            segment = -1;
            return false;
        }

        var rest = id[(runTag.Length + consumed)..];
        return rest.Length >= 2 && rest[0] == (byte)'-' && Utf8Parser.TryParse(rest[1..], out n, out consumed) && consumed == rest.Length - 1 && n >= 0;
    }

    private static void Append(Span<byte> buffer, ref int length, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer[length..]);
        length += bytes.Length;
    }

    private static void AppendNumber(Span<byte> buffer, ref int length, long value)
    {
        if (!Utf8Formatter.TryFormat(value, buffer[length..], out var written))
        {
            throw new InvalidOperationException("send frame buffer too small");
        }

        length += written;
    }
}
