using System.ComponentModel.DataAnnotations;

namespace Switchboard.Silo.Conversations;

/// <summary>How much one read of a conversation's log may hold (section <c>Switchboard:History</c>): history pages and each read of a <c>resume</c>.</summary>
public sealed class HistoryOptions
{
    public const string SectionName = "Switchboard:History";

    /// <summary>
    /// Most bytes of message bodies one read returns, beside its row limit. Default 1 MiB. A page stops before the
    /// message that would pass it (its first message always comes): a history page can then be shorter than
    /// <c>limit</c>, and a <c>resume</c> reads again until its cap or the end.
    /// </summary>
    [Range(64 * 1024, 256 * 1024 * 1024)]
    public int PageMaxBytes { get; set; } = 1024 * 1024;
}
