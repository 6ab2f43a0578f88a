using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Identity;
using Switchboard.Silo.Connections;
using Switchboard.Silo.Diagnostics;
using Switchboard.Silo.WebSockets;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>The silo's one expiry timer: a socket closes with 4001 at the first check after its token's <c>exp</c>, and not before.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class OpenSocketsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _services.Dispose();

    [Fact]
    public void Each_socket_closes_with_4001_at_the_first_check_after_its_token_expired()
    {
        using var sockets = new OpenSockets(_time);
        var soon = NewSession();
        var later = NewSession();
        var never = NewSession();
        sockets.Add(soon, _time.GetUtcNow().AddSeconds(1.5));
        sockets.Add(later, _time.GetUtcNow().AddSeconds(30));
        sockets.Add(never, expires: null);

        _time.Advance(OpenSockets.ExpiryCheckInterval);
        Assert.False(soon.IsClosing);

        _time.Advance(OpenSockets.ExpiryCheckInterval);
        Assert.True(soon.IsClosing);
        Assert.False(later.IsClosing);

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.True(later.IsClosing);
        Assert.False(never.IsClosing);
    }

    [Fact]
    public void A_socket_whose_token_already_expired_closes_when_added()
    {
        using var sockets = new OpenSockets(_time);
        var session = NewSession();

        sockets.Add(session, _time.GetUtcNow().AddSeconds(-1));

        Assert.True(session.IsClosing);
    }

    [Fact]
    public void A_removed_socket_is_not_closed_by_its_expiry()
    {
        using var sockets = new OpenSockets(_time);
        var session = NewSession();
        sockets.Add(session, _time.GetUtcNow().AddSeconds(1));

        sockets.Remove(session);
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.False(session.IsClosing);
        Assert.Equal(0, sockets.Count);
    }

    [Fact]
    public void CloseAll_closes_every_socket_and_WhenEmpty_waits_for_the_last_to_go()
    {
        using var sockets = new OpenSockets(_time);
        var first = NewSession();
        var second = NewSession();
        sockets.Add(first, expires: null);
        sockets.Add(second, expires: null);

        var closed = sockets.CloseAll((WebSocketCloseStatus)CloseCodes.NodeShuttingDown, "draining");
        var empty = sockets.WhenEmpty();

        Assert.Equal(2, closed);
        Assert.True(first.IsClosing && second.IsClosing);
        Assert.False(empty.IsCompleted);
        sockets.Remove(first);
        Assert.False(empty.IsCompleted);
        sockets.Remove(second);
        Assert.True(empty.IsCompletedSuccessfully);
    }

    [Fact]
    public void WhenEmpty_is_complete_at_once_without_sockets()
    {
        using var sockets = new OpenSockets(_time);

        Assert.True(sockets.WhenEmpty().IsCompletedSuccessfully);
    }

    private WebSocketSession NewSession() => new(
        ConnectionId.New(),
        new Caller(new UserId("u1"), "student"),
        tokenIssuedAt: null,
        new SocketOptions(),
        new SwitchboardMetrics(_services.GetRequiredService<IMeterFactory>(), new ConnectionRegistry()),
        NullLogger.Instance);
}
