using System.Buffers;
using System.Text.Json;
using Switchboard.Messaging;

namespace Switchboard.Silo.Endpoints;

/// <summary>Reads a JSON request body with the protocol's size limit (413 past it) without trusting Content-Length.</summary>
public static class RequestBody
{
    public const int MaxBytes = 65_536;

    public static async Task<byte[]> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            throw new SwitchboardException(ProtocolError.TooLarge, $"Request bodies are limited to {MaxBytes} bytes.");
        }

        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > MaxBytes)
            {
                throw new SwitchboardException(ProtocolError.TooLarge, $"Request bodies are limited to {MaxBytes} bytes.");
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses the body as a JSON object; bad_request when it is not one.</summary>
    public static JsonDocument ParseObject(byte[] body)
    {
        try
        {
            var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw SwitchboardException.BadRequest("The body must be a JSON object.");
            }

            return document;
        }
        catch (JsonException)
        {
            throw SwitchboardException.BadRequest("The body is not valid JSON.");
        }
    }

    /// <summary>A string property, or null when absent; bad_request when present but not a string.</summary>
    public static string? GetString(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw SwitchboardException.BadRequest($"'{name}' must be a string.");
    }
}
