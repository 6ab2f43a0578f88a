using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Switchboard.Cli.Client;

namespace Switchboard.Cli.Output;

/// <summary>
/// Where results go: stdout, as text for people or (<c>--json</c>) one JSON object per line; errors as text on stderr,
/// or as an <c>error</c> object on stdout with <c>--json</c>. Progress for people (connected, reconnecting) always
/// goes to stderr, so stdout stays what a script parses.
/// </summary>
public sealed class Printer(TextWriter output, TextWriter error, bool json)
{
    public bool Json => json;

    public void Result<T>(T value, JsonTypeInfo<T> type, string human) =>
        output.WriteLine(json ? JsonSerializer.Serialize(value, type) : Safe(human, keepNewlines: true));

    /// <summary>A message frame: as received with <c>--json</c> (byte for byte), else one line for people.</summary>
    public void Message(ServerFrame message)
    {
        if (json)
        {
            output.WriteLine(message.Raw);
            return;
        }

        // 1.1: a deleted message keeps its seq, sender and time; its body is gone (null).
        var body = message.Deleted == true ? "(deleted)" : BodyText(message.Body);
        output.WriteLine(Safe($"{message.Ts} {message.Conversation} #{message.Seq} {message.From}: {body}"));
    }

    /// <summary>Any other server frame a tail shows (read, typing, deleted): as received with <c>--json</c>, else <paramref name="human"/>.</summary>
    public void Frame(ServerFrame frame, string human) => output.WriteLine(json ? frame.Raw : Safe(human));

    /// <summary>A line written as given, for the raw outputs (the token).</summary>
    public void Line(string text) => output.WriteLine(text);

    public void Status(string text) => error.WriteLine(Safe(text));

    public void Error(CliError failure)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new ErrorLine(failure.Code, failure.Message), CliJson.Default.ErrorLine));
        }
        else
        {
            error.WriteLine(Safe($"error: {failure.Code}: {failure.Message}"));
        }
    }

    /// <summary>
    /// Text for a terminal: control characters (escape sequences could rewrite the screen or the title) and bidi
    /// overrides (which reorder what is shown) become <c>\uXXXX</c>, newlines too, so one message stays one line.
    /// Bodies are other people's input; <c>--json</c> output is left as received, for programs.
    /// </summary>
    public static string Safe(string text, bool keepNewlines = false)
    {
        if (!text.Any(Unsafe))
        {
            return text;
        }

        var safe = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (Unsafe(c) && !(keepNewlines && c == '\n'))
            {
                safe.Append($"\\u{(int)c:x4}");
            }
            else
            {
                safe.Append(c);
            }
        }

        return safe.ToString();
    }

    private static bool Unsafe(char c) => char.IsControl(c) || c is >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069';

    /// <summary>A body people can read: the text of <c>{"text":...}</c> (what the chat page sends), a string as is, else its JSON.</summary>
    public static string BodyText(JsonElement? body) => body switch
    {
        null => "null",
        { ValueKind: JsonValueKind.String } text => text.GetString()!,
        { ValueKind: JsonValueKind.Object } value when value.EnumerateObject().Count() == 1
            && value.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String => text.GetString()!,
        { } value => value.GetRawText(),
    };
}

/// <summary>What <c>--json</c> prints for a failure.</summary>
public sealed record ErrorLine(string Code, string Message)
{
    public string Type => "error";
}
