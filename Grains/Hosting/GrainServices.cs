using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Switchboard.Grains.Conversations;

namespace Switchboard.Grains.Hosting;

public static class GrainServices
{
    /// <summary>What the grains take from the silo's container besides the message log and grain storage.</summary>
    public static IServiceCollection AddSwitchboardGrains(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<RoutingOptions>();
        services.AddOptions<LimitOptions>();
        services.TryAddSingleton<ConversationListLoads>();

        // For hosts whose log registers no epoch of its own (a log that lives as long as the process).
        services.TryAddSingleton<ILogEpoch, ProcessLogEpoch>();

        // Read markers live with the log (the MariaDB one rides its commits): the same instance, seen as its other face.
        services.TryAddSingleton<IReadMarkers>(sp => sp.GetRequiredService<IMessageLog>() as IReadMarkers
            ?? throw new InvalidOperationException($"The message log {sp.GetRequiredService<IMessageLog>().GetType().Name} keeps no read markers."));
        return services;
    }
}
