using System.Buffers;
using System.Text.Json;

namespace Switchboard.Messaging;

/// <summary>
/// Writes a JSON frame with a buffer and a <see cref="Utf8JsonWriter"/> kept per thread, so a frame allocates
/// only its own bytes. The body gets its state as an argument: with a static lambda nothing else is allocated.
/// </summary>
public static class FrameBuffer
{
    // A thread's buffer past this size (a large body went through it) is dropped after use, not kept.
    private const int KeptBufferBytes = 16 * 1024;

    // Frames are well-formed by construction (every writer below is ours): no structural validation per token.
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>The UTF-8 bytes <paramref name="write"/> produces for <paramref name="state"/>.</summary>
    public static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        write(writer, state);
        writer.Flush();
        var frame = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > KeptBufferBytes)
        {
            t_buffer = null;
            t_writer = null;
        }

        return frame;
    }
}
