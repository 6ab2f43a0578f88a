using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Switchboard.Grains.Users;
using Switchboard.Identity;

namespace Switchboard.Tests.Contracts;

/// <summary>An Orleans serializer that knows the contracts and the persisted state types, without a silo.</summary>
public sealed class SerializerFixture : IDisposable
{
    private readonly ServiceProvider _services;

    public SerializerFixture()
    {
        _services = new ServiceCollection()
            .AddSerializer(builder => builder
                .AddAssembly(typeof(UserId).Assembly)
                .AddAssembly(typeof(UserState).Assembly))
            .BuildServiceProvider();
        Serializer = _services.GetRequiredService<Serializer>();
    }

    public Serializer Serializer { get; }

    /// <summary>Serializes <paramref name="value"/> as <typeparamref name="T"/> and reads it back, as a grain call or a storage write would.</summary>
    public T RoundTrip<T>(T value)
        where T : notnull =>
        Serializer.Deserialize<T>(Serializer.SerializeToArray(value)) ?? throw new InvalidOperationException("The round trip produced null.");

    public void Dispose() => _services.Dispose();
}
