using System.Text.Json;

namespace Switchboard.Bench.Load;

internal enum ServerFrameType
{
    Unknown = 0,
    Welcome,
    Ack,
    Message,
    Error,
    Pong,

    /// <summary>A live read marker (protocol 1.1): another device of the user, or the direct conversation's peer, read up to <c>seq</c>.</summary>
    Read,
}

/// <summary>
/// The fields of a server frame the generator checks, read with <see cref="Utf8JsonReader"/> straight from the
/// receive buffer: no DOM, no strings. Spans point into that buffer and live as long as it does.
/// </summary>
internal ref struct ServerFrame
{
    public ServerFrameType Type;
    public ReadOnlySpan<byte> Id;
    public ReadOnlySpan<byte> Conversation;
    public ReadOnlySpan<byte> From;
    public ReadOnlySpan<byte> To;
    public ReadOnlySpan<byte> Node;
    public ReadOnlySpan<byte> Code;
    public long Seq;

    /// <summary>A <c>resume</c> ack's <c>recovered</c>: every gap was filled (nothing had fallen out of retention).</summary>
    public bool Recovered;

    /// <summary>A <c>resume</c> ack's <c>more</c>: a conversation had more than the cap; resume again from what arrived.</summary>
    public bool More;

    /// <summary><c>body.t</c>: the sender's send time in Unix microseconds; 0 when absent.</summary>
    public long SentMicros;

    /// <summary>Parses one complete frame; <see cref="ServerFrameType.Unknown"/> when it is not a JSON object or not a known type.</summary>
    public static ServerFrame Parse(ReadOnlySpan<byte> utf8)
    {
        var frame = default(ServerFrame);
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    frame.Type = Classify(reader.ValueSpan);
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    frame.Id = reader.TokenType == JsonTokenType.String ? reader.ValueSpan : default;
                }
                else if (reader.ValueTextEquals("conversation"u8))
                {
                    reader.Read();
                    frame.Conversation = reader.ValueSpan;
                }
                else if (reader.ValueTextEquals("seq"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number)
                    {
                        reader.TryGetInt64(out frame.Seq);
                    }
                }
                else if (reader.ValueTextEquals("from"u8))
                {
                    reader.Read();
                    frame.From = reader.ValueSpan;
                }
                else if (reader.ValueTextEquals("to"u8))
                {
                    reader.Read();
                    frame.To = reader.ValueSpan;
                }
                else if (reader.ValueTextEquals("body"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadBody(ref reader, ref frame);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("node"u8))
                {
                    reader.Read();
                    frame.Node = reader.ValueSpan;
                }
                else if (reader.ValueTextEquals("recovered"u8))
                {
                    reader.Read();
                    frame.Recovered = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("more"u8))
                {
                    reader.Read();
                    frame.More = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("code"u8))
                {
                    reader.Read();
                    frame.Code = reader.ValueSpan;
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return default;
        }

        return frame;
    }

    private static void ReadBody(ref Utf8JsonReader reader, ref ServerFrame frame)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("t"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number)
                {
                    reader.TryGetInt64(out frame.SentMicros);
                }
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static ServerFrameType Classify(ReadOnlySpan<byte> type)
    {
        if (type.SequenceEqual("message"u8))
        {
            return ServerFrameType.Message;
        }

        if (type.SequenceEqual("ack"u8))
        {
            return ServerFrameType.Ack;
        }

        if (type.SequenceEqual("error"u8))
        {
            return ServerFrameType.Error;
        }

        if (type.SequenceEqual("welcome"u8))
        {
            return ServerFrameType.Welcome;
        }

        if (type.SequenceEqual("read"u8))
        {
            return ServerFrameType.Read;
        }

        return type.SequenceEqual("pong"u8) ? ServerFrameType.Pong : ServerFrameType.Unknown;
    }
}
