using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Switchboard.Issuer;

/// <summary>Composition of the development token issuer: options, key, listener, and the loopback-only start.</summary>
public static class IssuerHosting
{
    /// <summary>Binds <see cref="IssuerOptions"/>, listens on its <c>Url</c> (refused unless loopback) and opens the signing key.</summary>
    public static WebApplicationBuilder AddTokenIssuer(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<IssuerOptions>().BindConfiguration(IssuerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        // Checked before anything binds: a non-loopback URL never opens a socket.
        var url = builder.Configuration.GetSection(IssuerOptions.SectionName).Get<IssuerOptions>()?.Url ?? new IssuerOptions().Url;
        if (LoopbackAddress.Problem(url) is { } problem)
        {
            throw new OptionsValidationException(IssuerOptions.SectionName, typeof(IssuerOptions), [$"{IssuerOptions.SectionName}:Url {problem}"]);
        }

        builder.WebHost.UseUrls(url);

        // A line per request would drown its own warnings; the request lines carry no tokens anyway.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(services => IssuerKeyPair.Open(services.GetRequiredService<IOptions<IssuerOptions>>().Value.KeyPath));
        builder.Services.AddSingleton<IssuerIdentity>();
        builder.Services.AddProblemDetails();
        return builder;
    }

    /// <summary>
    /// Starts the issuer, then checks every address it actually listens on (Kestrel endpoints or <c>urls</c> from other
    /// configuration can override <c>Url</c>): any that is not loopback stops it again with an exception.
    /// </summary>
    public static async Task StartOnLoopbackOnlyAsync(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(IssuerLog.Category);
        var options = app.Services.GetRequiredService<IOptions<IssuerOptions>>().Value;
        var key = app.Services.GetRequiredService<IssuerKeyPair>();
        await app.StartAsync();

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        // An address that does not even parse as a URL (a wildcard host) counts as outside.
        var outside = addresses.Where(a => LoopbackAddress.Problem(a) is not null).ToList();
        if (addresses.Count == 0 || outside.Count > 0)
        {
            foreach (var address in outside)
            {
                IssuerLog.NotLoopback(logger, address);
            }

            await app.StopAsync();
            throw new InvalidOperationException(
                $"The development token issuer listens on {string.Join(", ", outside.DefaultIfEmpty("no address"))}, not on loopback only: it mints tokens for anyone who reaches it, so it refuses to run.");
        }

        if (options.KeyPath is null)
        {
            IssuerLog.KeyInMemory(logger, key.KeyId);
        }
        else if (key.Loaded)
        {
            IssuerLog.KeyRead(logger, key.KeyId, options.KeyPath);
        }
        else
        {
            IssuerLog.KeyWritten(logger, key.KeyId, options.KeyPath);
        }

        IssuerLog.Listening(logger, string.Join(", ", addresses), app.Services.GetRequiredService<IssuerIdentity>().Issuer);
    }
}

/// <summary>Where the issuer is: its base URL (the first address it listens on) and the <c>iss</c> it writes.</summary>
public sealed class IssuerIdentity(IServer server, IOptions<IssuerOptions> options)
{
    /// <summary>The base URL of the discovery document, the JWKS and the token endpoint.</summary>
    public string BaseUrl => server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()?.TrimEnd('/')
        ?? throw new InvalidOperationException("The issuer is not listening yet.");

    /// <summary>The <c>iss</c> of its tokens: <see cref="IssuerOptions.Issuer"/>, else <see cref="BaseUrl"/>.</summary>
    public string Issuer => options.Value.Issuer is { Length: > 0 } issuer ? issuer : BaseUrl;
}
