using System.ComponentModel.DataAnnotations;

namespace Switchboard.Silo.WebSockets;

/// <summary>WebSocket limits (section <c>Switchboard:WebSockets</c>).</summary>
public sealed class SocketOptions
{
    public const string SectionName = "Switchboard:WebSockets";

    /// <summary>Largest client message in bytes, inclusive; larger closes with 1009. Default 65,536.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 65_536;

    /// <summary>Interval of server pings. Default 20 s (well under the gateway's 100 s idle timeout).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a ping may go unanswered before the socket is aborted. Default 20 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Frames queued for one socket before it counts as too slow (close 4008). Default 1,024.</summary>
    [Range(16, 1_000_000)]
    public int OutboundQueueCapacity { get; set; } = 1024;

    /// <summary>
    /// Bytes queued for one socket before it counts as too slow (close 4008), beside the frame count. Default 4 MiB: 64
    /// messages of the largest size. A group's frame is one buffer shared by every member's queue.
    /// </summary>
    [Range(65_536, 1L << 30)]
    public long OutboundQueueMaxBytes { get; set; } = 4L << 20;

    /// <summary>Connections one user may hold across the cluster; more are refused with HTTP 429. Default 16; 0 = no cap.</summary>
    [Range(0, 10_000)]
    public int MaxConnectionsPerUser { get; set; } = 16;

    /// <summary>Origins allowed to open sockets (exact match, e.g. <c>https://app.example.com</c>). Empty allows any; requests without an Origin header are always allowed.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>Frames a socket may send per second on average. Default 200.</summary>
    [Range(1, 1_000_000)]
    public double RateLimitPerSecond { get; set; } = 200;

    /// <summary>Frames a socket may send in a burst. Default 400.</summary>
    [Range(1, 1_000_000)]
    public int RateLimitBurst { get; set; } = 400;

    /// <summary>Consecutive rate-limited frames after which the socket is closed with 4029. Default 100.</summary>
    [Range(1, 1_000_000)]
    public int RateLimitStrikes { get; set; } = 100;

    /// <summary>Most messages one <c>resume</c> replays per conversation; past it the ack says <c>more</c>. Default 1,000.</summary>
    [Range(1, 100_000)]
    public int ResumeCap { get; set; } = 1000;

    /// <summary>
    /// Most conversations one <c>resume</c> may name; more is <c>bad_request</c> (split it). Each named conversation
    /// costs an authorization and a read, so one frame must not fan out without bound. Default 200.
    /// </summary>
    [Range(1, 100_000)]
    public int ResumeMaxConversations { get; set; } = 200;

    /// <summary>How long a closing socket waits for the client's close frame before it is aborted. Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
