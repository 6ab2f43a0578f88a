using Switchboard.Messaging;

namespace Switchboard.Silo.Diagnostics;

/// <summary>Turns any failure of a request into a protocol error code and a message fit for clients.</summary>
public static class ErrorMapping
{
    public static (ProtocolError Code, string Message) ToError(Exception exception) => exception switch
    {
        SwitchboardException known => (known.Code, known.Message),
        TimeoutException => (ProtocolError.Unavailable, "The cluster did not answer in time; retry with the same id."),
        OperationCanceledException => (ProtocolError.Unavailable, "The request was cancelled; retry with the same id."),
        _ => (ProtocolError.Unavailable, "The cluster could not take the request now; retry with the same id."),
    };

    /// <summary>True for failures that are neither the client's doing nor a known transient cluster state (a silo that
    /// just died, a call that timed out): those deserve an error log.</summary>
    public static bool IsUnexpected(Exception exception) =>
        exception is not (SwitchboardException or TimeoutException or OperationCanceledException or OrleansMessageRejectionException);
}
