namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// A host with small socket limits: 2 connections per user, one allowed Origin, resume capped at 5, an
/// outbound queue of 16 frames, 2 send ids remembered per user, reads of at most 64 KiB of bodies, and dev tokens
/// off (tests mint their tokens).
/// </summary>
public sealed class RestrictedHostFixture() : HostFixture(new Dictionary<string, string?>
{
    ["Switchboard:Auth:DevTokens"] = "false",
    ["Switchboard:WebSockets:MaxConnectionsPerUser"] = "2",
    ["Switchboard:WebSockets:AllowedOrigins:0"] = AllowedOrigin,
    ["Switchboard:WebSockets:ResumeCap"] = "5",
    ["Switchboard:WebSockets:OutboundQueueCapacity"] = "16",
    ["Switchboard:Routing:DedupeCapacity"] = "2",
    ["Switchboard:History:PageMaxBytes"] = "65536",
})
{
    public const string AllowedOrigin = "https://ok.example";
}

[CollectionDefinition(Name)]
public sealed class RestrictedHostCollection : ICollectionFixture<RestrictedHostFixture>
{
    public const string Name = "restricted host";
}

/// <summary>A host whose sockets may send 1 frame per second, in bursts of 2, and are closed after 3 refusals in a row.</summary>
public sealed class RateLimitedHostFixture() : HostFixture(new Dictionary<string, string?>
{
    ["Switchboard:WebSockets:RateLimitPerSecond"] = "1",
    ["Switchboard:WebSockets:RateLimitBurst"] = "2",
    ["Switchboard:WebSockets:RateLimitStrikes"] = "3",
});

[CollectionDefinition(Name)]
public sealed class RateLimitedHostCollection : ICollectionFixture<RateLimitedHostFixture>
{
    public const string Name = "rate-limited host";
}

/// <summary>
/// A host with tiny cluster-wide budgets that do not refill within a test: 4 sends per user, 3 posts per group,
/// 8 REST requests per user, resumes of at most 3 conversations, 3 members per group and 2 groups per user.
/// </summary>
public sealed class BudgetHostFixture() : HostFixture(new Dictionary<string, string?>
{
    ["Switchboard:Limits:SendsPerUserPerSecond"] = "0.01",
    ["Switchboard:Limits:SendsPerUserBurst"] = "4",
    ["Switchboard:Limits:PostsPerGroupPerSecond"] = "0.01",
    ["Switchboard:Limits:PostsPerGroupBurst"] = "3",
    ["Switchboard:Rest:RequestsPerUserPerSecond"] = "0.01",
    ["Switchboard:Rest:RequestsPerUserBurst"] = "8",
    ["Switchboard:WebSockets:ResumeMaxConversations"] = "3",
    ["Switchboard:Limits:MaxMembersPerGroup"] = "3",
    ["Switchboard:Limits:MaxGroupsPerUser"] = "2",
});

[CollectionDefinition(Name)]
public sealed class BudgetHostCollection : ICollectionFixture<BudgetHostFixture>
{
    public const string Name = "budget host";
}
