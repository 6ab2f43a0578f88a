using System.Net;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Connections;
using Switchboard.Grains.Connections;
using Switchboard.Identity;
using Switchboard.Users;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>
/// The silos registered with a user or group grain (<see cref="SiloRegistrations{TRegistration}"/>), without a
/// cluster: a fake clock and a membership view the test declares silos dead in.
/// </summary>
[Trait(Category.Name, Category.Fast)]
public sealed class SiloRegistrationsTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeMembership _membership = new();

    private static readonly SiloAddress SiloA = Silo(11111);
    private static readonly SiloAddress SiloB = Silo(11112);
    private static readonly SiloAddress SiloC = Silo(11113);

    [Fact]
    public void A_silo_registers_once_and_a_renewal_takes_its_new_sink_and_lifetime_and_keeps_what_the_grain_stored()
    {
        var registrations = New<CountedRegistration>();
        var first = registrations.Register(Route(SiloA, out _));
        first.Count = 3;

        _time.Advance(Lifetime / 2);
        var renewed = registrations.Register(Route(SiloA, out var newSink));

        Assert.Same(first, renewed);
        Assert.Equal(1, registrations.Count);
        Assert.Same(newSink, renewed.Route.Sink);
        Assert.Equal(_time.GetUtcNow() + Lifetime, renewed.Expires);
        Assert.Equal(3, renewed.Count);
    }

    [Fact]
    public void A_registration_expires_only_once_its_lifetime_has_passed_without_a_renewal()
    {
        var registrations = New<SiloRegistration>();
        registrations.Register(Route(SiloA, out _));
        registrations.Register(Route(SiloB, out _));

        _time.Advance(Lifetime * 0.6);
        registrations.Register(Route(SiloB, out _));
        _time.Advance(Lifetime * 0.4);

        // A's lifetime has just run out (not past it): kept.
        Assert.Equal(0, registrations.RemoveExpired());
        Assert.Equal(2, registrations.Count);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, registrations.RemoveExpired());
        Assert.Equal([SiloB], Silos(registrations));
        Assert.Null(registrations.Find(SiloA));
    }

    [Fact]
    public void A_silo_declared_dead_is_dropped_at_once_however_recently_it_renewed()
    {
        var registrations = New<SiloRegistration>();
        registrations.Register(Route(SiloA, out _));
        registrations.Register(Route(SiloB, out _));
        registrations.Register(Route(SiloC, out _));

        _membership.Dead.Add(SiloB);

        Assert.Equal(1, registrations.RemoveExpired());
        Assert.Equal([SiloA, SiloC], Silos(registrations));
        Assert.Equal(0, registrations.RemoveExpired());
    }

    [Fact]
    public void Restore_registers_the_stored_silos_still_alive_with_a_fresh_lifetime_and_leaves_the_dead_out()
    {
        var registrations = New<SiloRegistration>();
        _membership.Dead.Add(SiloB);

        registrations.Restore([Route(SiloA, out _), Route(SiloB, out _), Route(SiloC, out _)]);

        Assert.Equal([SiloA, SiloC], Silos(registrations));
        Assert.All(registrations.All.ToArray(), r => Assert.Equal(_time.GetUtcNow() + Lifetime, r.Expires));
    }

    [Fact]
    public void Remove_forgets_one_silo_keeps_the_others_in_order_and_says_whether_it_was_there()
    {
        var registrations = New<SiloRegistration>();
        var a = Route(SiloA, out _);
        var b = Route(SiloB, out _);
        var c = Route(SiloC, out _);
        registrations.Register(a);
        registrations.Register(b);
        registrations.Register(c);

        Assert.True(registrations.Remove(SiloB));
        Assert.False(registrations.Remove(SiloB));

        Assert.Equal([a, c], registrations.Routes);
        Assert.Same(c, registrations.Find(SiloC)!.Route);
    }

    [Fact]
    public void A_loop_over_the_registrations_sees_them_as_they_were_when_it_began()
    {
        var registrations = New<SiloRegistration>();
        registrations.Register(Route(SiloA, out _));
        registrations.Register(Route(SiloB, out _));

        var seen = new List<SiloAddress>();
        foreach (var registration in registrations.All)
        {
            // A delivery loop that leads to a registration or removal (a reentrant grain's other turn) is not disturbed.
            registrations.Register(Route(SiloC, out _));
            registrations.Remove(SiloB);
            seen.Add(registration.Route.Silo);
        }

        Assert.Equal([SiloA, SiloB], seen);
        Assert.Equal([SiloA, SiloC], Silos(registrations));
    }

    private SiloRegistrations<T> New<T>()
        where T : SiloRegistration, new() => new(_time, _membership, Lifetime);

    private static SiloAddress[] Silos<T>(SiloRegistrations<T> registrations)
        where T : SiloRegistration, new() => [.. registrations.Routes.Select(r => r.Silo)];

    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);

    private static SiloRoute Route(SiloAddress silo, out IConnectionSink sink)
    {
        sink = new NullSink();
        return new SiloRoute(silo, sink);
    }

    private sealed class CountedRegistration : SiloRegistration
    {
        public int Count { get; set; }
    }

    private sealed class NullSink : IConnectionSink
    {
        public Task DeliverToUserAsync(UserId user, Delivery delivery) => Task.CompletedTask;

        public Task DeliverToGroupAsync(GroupId group, Delivery delivery) => Task.CompletedTask;

        public Task MembershipChangedAsync(UserId user, GroupId group, bool isMember) => Task.CompletedTask;

        public Task<int> RevokeTokensAsync(TokenRevocation revocation) => Task.FromResult(0);
    }

    /// <summary>Cluster membership as the test declares it: only <see cref="IsDeadSilo"/> is asked.</summary>
    private sealed class FakeMembership : ISiloStatusOracle
    {
        public HashSet<SiloAddress> Dead { get; } = [];

        public bool IsDeadSilo(SiloAddress silo) => Dead.Contains(silo);

        public SiloStatus CurrentStatus => SiloStatus.Active;

        public string SiloName => "test";

        public SiloAddress SiloAddress => SiloA;

        public SiloAddress[] GetActiveSilos() => throw new NotSupportedException();

        public SiloStatus GetApproximateSiloStatus(SiloAddress siloAddress) => throw new NotSupportedException();

        public Dictionary<SiloAddress, SiloStatus> GetApproximateSiloStatuses(bool onlyActive = false) => throw new NotSupportedException();

        public bool IsFunctionalDirectory(SiloAddress siloAddress) => throw new NotSupportedException();

        public bool SubscribeToSiloStatusEvents(ISiloStatusListener observer) => throw new NotSupportedException();

        public bool TryGetSiloName(SiloAddress siloAddress, out string siloName) => throw new NotSupportedException();

        public bool UnSubscribeFromSiloStatusEvents(ISiloStatusListener observer) => throw new NotSupportedException();
    }
}
