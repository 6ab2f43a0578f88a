using System.Runtime.CompilerServices;
using Switchboard.Connections;

namespace Switchboard.Grains.Connections;

/// <summary>
/// The silos registered with one grain (the silos holding a user's sockets, the silos subscribed to a group), each
/// until its registration expires unless the silo renews it, and dropped as soon as cluster membership declares the
/// silo dead (seconds after a crash) rather than at expiry. A grain has few (mostly one): an array, scanned, replaced
/// rather than changed, so a loop over <see cref="All"/> is never disturbed by a registration made meanwhile.
/// </summary>
/// <typeparam name="TRegistration">What is kept per silo: <see cref="SiloRegistration"/>, or a subclass with more.</typeparam>
internal sealed class SiloRegistrations<TRegistration>(TimeProvider time, ISiloStatusOracle membership, TimeSpan lifetime)
    where TRegistration : SiloRegistration, new()
{
    private TRegistration[] _registrations = [];

    public int Count => _registrations.Length;

    /// <summary>The registrations as they are now; expired ones too until <see cref="RemoveExpired"/>.</summary>
    public ReadOnlySpan<TRegistration> All => _registrations;

    /// <summary>The routes, as a group persists them.</summary>
    public IEnumerable<SiloRoute> Routes => _registrations.Select(r => r.Route);

    public TRegistration? Find(SiloAddress silo)
    {
        var index = IndexOf(silo);
        return index < 0 ? null : _registrations[index];
    }

    /// <summary>Registers the silo of <paramref name="route"/>, or renews it (with the sink as it gives it now), until a lifetime from now.</summary>
    public TRegistration Register(SiloRoute route)
    {
        var index = IndexOf(route.Silo);
        TRegistration registration;
        if (index < 0)
        {
            registration = new TRegistration { Route = route };
            _registrations = [.. _registrations, registration];
        }
        else
        {
            registration = _registrations[index];
            registration.Route = route;
        }

        registration.Expires = time.GetUtcNow() + lifetime;
        return registration;
    }

    /// <summary>
    /// Registers what a grain stored before it was deactivated (or its silo died): the silos still alive get a
    /// fresh lifetime, the dead are left out (their sockets are gone; they come back by re-announcing).
    /// </summary>
    public void Restore(IEnumerable<SiloRoute> routes)
    {
        foreach (var route in routes)
        {
            if (!membership.IsDeadSilo(route.Silo))
            {
                Register(route);
            }
        }
    }

    /// <summary>False when the silo was not registered.</summary>
    public bool Remove(SiloAddress silo)
    {
        var index = IndexOf(silo);
        if (index < 0)
        {
            return false;
        }

        _registrations = [.. _registrations[..index], .. _registrations[(index + 1)..]];
        return true;
    }

    /// <summary>Drops the registrations that were not renewed in time or whose silo is dead; returns how many.</summary>
    public int RemoveExpired()
    {
        // A plain loop first: this runs before every delivery, and the usual answer is "nothing expired".
        var now = time.GetUtcNow();
        var anyExpired = false;
        foreach (var registration in _registrations)
        {
            if (IsExpired(registration, now))
            {
                anyExpired = true;
                break;
            }
        }

        if (!anyExpired)
        {
            return 0;
        }

        // No lambda over now: its closure would be made on every call, the common ones included.
        var kept = new List<TRegistration>(_registrations.Length);
        foreach (var registration in _registrations)
        {
            if (!IsExpired(registration, now))
            {
                kept.Add(registration);
            }
        }

        var removed = _registrations.Length - kept.Count;
        _registrations = [.. kept];
        return removed;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsExpired(TRegistration registration, DateTimeOffset now) =>
        registration.Expires < now || membership.IsDeadSilo(registration.Route.Silo);

    private int IndexOf(SiloAddress silo)
    {
        for (var i = 0; i < _registrations.Length; i++)
        {
            if (_registrations[i].Route.Silo.Equals(silo))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>One silo's registration with a grain: how to reach the silo, and until when.</summary>
internal class SiloRegistration
{
    /// <summary>The silo and its sink, as the silo last gave them.</summary>
    public SiloRoute Route { get; set; } = null!;

    public DateTimeOffset Expires { get; set; }
}
