namespace Switchboard.Grains.Conversations;

/// <summary>
/// The log's backlog of appends waiting for a commit is full: the message was refused at once and will never be
/// stored, so its seq stays free. The sender hears <c>unavailable</c> and retries with the same id.
/// </summary>
public sealed class MessageLogFullException(string message) : Exception(message);
