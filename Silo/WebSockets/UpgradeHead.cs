using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Switchboard.Silo.WebSockets;

/// <summary>
/// The head of an HTTP/1.1 request read straight off a connection, parsed just far enough to tell whether it is
/// a plain WebSocket upgrade to <c>/ws</c> that <see cref="ConnectionUpgrade"/> can take. Anything else, or
/// anything unusual (other methods or versions, folded or repeated headers, a body), is left to Kestrel's HTTP
/// parser, which answers it as before.
/// </summary>
internal sealed class UpgradeHead
{
    /// <summary>Heads longer than this are left to Kestrel (which enforces its own limits).</summary>
    public const int MaxLength = 16 * 1024;

    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    private static ReadOnlySpan<byte> EndOfLine => "\r\n"u8;

    private UpgradeHead(string? authorization, string? queryToken, string? origin, string? forwardedFor, string key)
    {
        Authorization = authorization;
        QueryToken = queryToken;
        Origin = origin;
        ForwardedFor = forwardedFor;
        Key = key;
    }

    public enum Result
    {
        /// <summary>Not a head this layer takes: leave every byte to HTTP.</summary>
        NotOurs,

        /// <summary>So far a <c>GET /ws</c>: read more.</summary>
        NeedMore,

        /// <summary>A complete upgrade head.</summary>
        Parsed,
    }

    public string? Authorization { get; }

    public string? QueryToken { get; }

    public string? Origin { get; }

    public string? ForwardedFor { get; }

    /// <summary>The client's <c>Sec-WebSocket-Key</c>.</summary>
    public string Key { get; }

    /// <summary>Parses <paramref name="buffer"/>; on <see cref="Result.Parsed"/>, <paramref name="length"/> is the head's length in bytes.</summary>
    public static Result TryParse(ReadOnlySequence<byte> buffer, out UpgradeHead? head, out long length)
    {
        head = null;
        length = 0;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, EndOfLine))
        {
            // Not even a request line yet: decide on what there is.
            return buffer.Length >= MaxLength || !CouldBeSocketRequest(buffer) ? Result.NotOurs : Result.NeedMore;
        }

        if (!IsSocketRequestLine(line, out var query))
        {
            return Result.NotOurs;
        }

        reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> whole, EndOfHead))
        {
            return buffer.Length >= MaxLength ? Result.NotOurs : Result.NeedMore;
        }

        if (whole.Length + EndOfHead.Length > MaxLength)
        {
            return Result.NotOurs;
        }

        length = reader.Consumed;
        head = ParseHeaders(Encoding.Latin1.GetString(whole), query);
        return head is null ? Result.NotOurs : Result.Parsed;
    }

    /// <summary>The <c>Sec-WebSocket-Accept</c> answering <paramref name="key"/> (RFC 6455, 4.2.2).</summary>
    public static string AcceptKey(string key)
    {
        Span<byte> hash = stackalloc byte[20];
        System.Security.Cryptography.SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"), hash);
        return Convert.ToBase64String(hash);
    }

    private static bool CouldBeSocketRequest(ReadOnlySequence<byte> partial)
    {
        ReadOnlySpan<byte> prefix = "GET /ws"u8;
        Span<byte> start = stackalloc byte[prefix.Length];
        var length = (int)Math.Min(partial.Length, prefix.Length);
        partial.Slice(0, length).CopyTo(start);
        return prefix.StartsWith(start[..length]);
    }

    private static bool IsSocketRequestLine(ReadOnlySequence<byte> line, out string? query)
    {
        query = null;
        if (line.Length > MaxLength)
        {
            return false;
        }

        var text = Encoding.Latin1.GetString(line);
        const string Method = "GET ";
        const string Version = " HTTP/1.1";
        if (!text.StartsWith(Method, StringComparison.Ordinal) || !text.EndsWith(Version, StringComparison.Ordinal))
        {
            return false;
        }

        var target = text.AsSpan(Method.Length, text.Length - Method.Length - Version.Length);
        var mark = target.IndexOf('?');
        var path = mark < 0 ? target : target[..mark];
        if (!WebSocketEndpoint.IsSocketPath(path) || target.Contains(' '))
        {
            return false;
        }

        query = mark < 0 ? null : target[mark..].ToString();
        return true;
    }

    // The headers read; any other is ignored. Index order matters to ParseHeaders.
    private static readonly string[] s_tracked =
        ["Host", "Upgrade", "Connection", "Sec-WebSocket-Version", "Sec-WebSocket-Key", "Authorization", "Origin", "X-Forwarded-For"];

    private static UpgradeHead? ParseHeaders(string head, string? query)
    {
        var values = new string?[s_tracked.Length];
        var lines = head.Split("\r\n");
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i];
            var colon = line.IndexOf(':');
            if (colon <= 0 || line[0] is ' ' or '\t' || line.AsSpan(0, colon).ContainsAny(' ', '\t'))
            {
                return null; // folded or malformed: HTTP's parser answers it
            }

            var name = line.AsSpan(0, colon);
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                return null; // a GET with a body: not a plain upgrade
            }

            var index = IndexOfTracked(name);
            if (index >= 0)
            {
                if (values[index] is not null)
                {
                    return null; // repeated: HTTP's rules decide
                }

                values[index] = line[(colon + 1)..].Trim(' ', '\t');
            }
        }

        var (host, upgrade, connection, version, key) = (values[0], values[1], values[2], values[3], values[4]);
        if (host is null || key is null || version != "13"
            || !string.Equals(upgrade, "websocket", StringComparison.OrdinalIgnoreCase)
            || connection is null || !HasToken(connection, "upgrade")
            || !IsValidKey(key))
        {
            return null;
        }

        string? queryToken = null;
        if (query is not null && QueryHelpers.ParseQuery(query).TryGetValue("access_token", out var tokens))
        {
            queryToken = tokens.ToString();
        }

        return new UpgradeHead(authorization: values[5], queryToken, origin: values[6], forwardedFor: values[7], key);
    }

    private static int IndexOfTracked(ReadOnlySpan<char> name)
    {
        for (var i = 0; i < s_tracked.Length; i++)
        {
            if (name.Equals(s_tracked[i], StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool HasToken(string list, string token)
    {
        foreach (var part in list.Split(','))
        {
            if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out var length) && length == 16;
    }
}
