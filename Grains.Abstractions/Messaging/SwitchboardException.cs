namespace Switchboard.Messaging;

/// <summary>
/// An expected failure with a protocol error code. Grains throw it; it crosses silos (it is serializable,
/// unlike most provider exceptions) and the edges turn it into an <c>error</c> frame or problem details.
/// </summary>
[GenerateSerializer, Alias("sb.SwitchboardException")]
public sealed class SwitchboardException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SwitchboardException(ProtocolError code, string message)
        : base(message) => Code = code;

    /// <summary>Creates the exception with the failure that caused it.</summary>
    public SwitchboardException(ProtocolError code, string message, Exception? innerException)
        : base(message, innerException) => Code = code;

    /// <summary>The protocol error code.</summary>
    [Id(0)]
    public ProtocolError Code { get; }

    /// <summary>Shorthand for <see cref="ProtocolError.Forbidden"/>.</summary>
    public static SwitchboardException Forbidden(string message) => new(ProtocolError.Forbidden, message);

    /// <summary>Shorthand for <see cref="ProtocolError.NotFound"/>.</summary>
    public static SwitchboardException NotFound(string message) => new(ProtocolError.NotFound, message);

    /// <summary>Shorthand for <see cref="ProtocolError.BadRequest"/>.</summary>
    public static SwitchboardException BadRequest(string message) => new(ProtocolError.BadRequest, message);

    /// <summary>Shorthand for <see cref="ProtocolError.Unavailable"/>.</summary>
    public static SwitchboardException Unavailable(string message, Exception? inner = null) => new(ProtocolError.Unavailable, message, inner);
}
