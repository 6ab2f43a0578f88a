using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>Binds <see cref="AuthOptions"/> the same way in every host that validates tokens.</summary>
public static class TokenValidationHosting
{
    /// <summary>
    /// <c>Switchboard:Auth</c>, validated at start. Whether a host may start without any key is left to it: add that
    /// rule to the builder returned (see <see cref="AuthOptions.HasKeySource"/>).
    /// </summary>
    public static OptionsBuilder<AuthOptions> AddTokenValidationOptions(this IServiceCollection services) =>
        services.AddOptions<AuthOptions>()
            .BindConfiguration(AuthOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
}
