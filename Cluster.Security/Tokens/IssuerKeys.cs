using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Switchboard.Cluster.Security.Tokens;

/// <summary>
/// The keys tokens are checked with: the shared HMAC key and PEM public keys, fixed at start, and the keys an OpenID
/// Connect authority or a JWKS URL publishes, fetched every <see cref="AuthOptions.KeyRefreshInterval"/> and at once
/// (at most every <see cref="AuthOptions.KeyRefreshMinimumInterval"/>) when a token names a <c>kid</c> no key has.
/// Every published key is kept until the next fetch, so during a rotation the old and the new key both validate.
/// </summary>
/// <remarks>
/// Not <c>ConfigurationManager&lt;OpenIdConnectConfiguration&gt;</c>: its periodic refresh is at least 5 min plus up to
/// an hour of random jitter, and a refresh it is asked for only happens on a later call, so the token that named the
/// new key would be refused. Fetching and parsing still are IdentityModel's (<see cref="HttpDocumentRetriever"/>,
/// <see cref="OpenIdConnectConfiguration"/>, <see cref="JsonWebKeySet"/>).
/// </remarks>
public sealed class IssuerKeys : IDisposable
{
    private readonly IReadOnlyList<SecurityKey> _fixed;
    private readonly IReadOnlyList<IDisposable> _owned;
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient? _http;
    private readonly HttpDocumentRetriever? _documents;
    private readonly SemaphoreSlim _refreshing = new(1, 1);

    private volatile Snapshot _current;
    // UTC ticks, read without the lock on every validation (a DateTimeOffset could be read torn).
    private long _nextRefreshTicks;
    private DateTimeOffset _lastOnDemand = DateTimeOffset.MinValue;

    public IssuerKeys(AuthOptions options, SymmetricSecurityKey? signingKey, TimeProvider time, ILogger logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        var loaded = options.PublicKeyFiles.Select(PublicKeyFile.Load).ToList();
        _owned = loaded;
        _fixed = [.. signingKey is null ? [] : new SecurityKey[] { signingKey }, .. loaded.Select(k => k.Key)];
        _current = new Snapshot(_fixed);
        if (Source is not null)
        {
            _http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

            // Options validation already refused http anywhere but loopback.
            _documents = new HttpDocumentRetriever(_http) { RequireHttps = false };
        }
    }

    /// <summary>Where published keys come from (the authority or the JWKS URL), or null when every key is fixed.</summary>
    public string? Source => !string.IsNullOrEmpty(_options.Authority) ? _options.Authority : _options.JwksUrl is { Length: > 0 } jwks ? jwks : null;

    /// <summary>The keys for a token with <paramref name="kid"/>: those with that id, or all when it names none.</summary>
    public IEnumerable<SecurityKey> Resolve(string? kid)
    {
        var snapshot = _current;
        if (string.IsNullOrEmpty(kid))
        {
            return snapshot.All;
        }

        // An HMAC key has no id an issuer need agree on: it is tried whatever the kid says (its algorithm check still applies).
        return snapshot.ById.TryGetValue(kid, out var keys) ? keys : snapshot.Symmetric;
    }

    /// <summary>Whether a key with <paramref name="kid"/> is known now.</summary>
    public bool Knows(string kid) => _current.ById.ContainsKey(kid);

    /// <summary>Fetches the published keys when they are due (the first time, callers wait for them; later, one refreshes while the rest go on).</summary>
    public async ValueTask EnsureFreshAsync()
    {
        if (Source is null || !RefreshDue())
        {
            return;
        }

        var first = Volatile.Read(ref _nextRefreshTicks) == 0;
        if (first)
        {
            await _refreshing.WaitAsync();
        }
        else if (!_refreshing.Wait(0))
        {
            return;
        }

        try
        {
            if (RefreshDue())
            {
                await FetchAsync();
            }
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>
    /// A token named a <c>kid</c> no key has: fetch again now, unless that was done less than
    /// <see cref="AuthOptions.KeyRefreshMinimumInterval"/> ago. True when the keys were fetched.
    /// </summary>
    public async ValueTask<bool> RefreshForUnknownKeyAsync(string kid)
    {
        if (Source is null)
        {
            return false;
        }

        await _refreshing.WaitAsync();
        try
        {
            // Another caller may have fetched it while this one waited.
            if (Knows(kid))
            {
                return true;
            }

            var now = _time.GetUtcNow();
            if (now - _lastOnDemand < _options.KeyRefreshMinimumInterval)
            {
                return false;
            }

            _lastOnDemand = now;
            return await FetchAsync();
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task<bool> FetchAsync()
    {
        var source = Source!;
        try
        {
            var published = await FetchPublishedAsync(source);
            _current = new Snapshot([.. _fixed, .. published]);
            RefreshIn(_options.KeyRefreshInterval);
            TokenLog.KeysFetched(_logger, source, published.Count, string.Join(",", published.Select(k => k.KeyId)));
            return true;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidOperationException or ArgumentException or System.Text.Json.JsonException or TaskCanceledException)
        {
            // The keys last fetched stay in use: an issuer's outage must not log everyone out. Tried again soon.
            RefreshIn(_options.KeyRefreshMinimumInterval);
            TokenLog.KeyFetchFailed(_logger, source, e);
            return false;
        }
    }

    private bool RefreshDue() => _time.GetUtcNow().UtcTicks >= Volatile.Read(ref _nextRefreshTicks);

    private void RefreshIn(TimeSpan interval) => Volatile.Write(ref _nextRefreshTicks, (_time.GetUtcNow() + interval).UtcTicks);

    private async Task<IReadOnlyList<SecurityKey>> FetchPublishedAsync(string source)
    {
        var jwksUrl = source;
        if (!string.IsNullOrEmpty(_options.Authority))
        {
            var metadata = _options.Authority.TrimEnd('/') + "/.well-known/openid-configuration";
            var discovery = OpenIdConnectConfiguration.Create(await _documents!.GetDocumentAsync(metadata, CancellationToken.None));
            jwksUrl = discovery.JwksUri ?? throw new InvalidOperationException($"{metadata} names no jwks_uri.");
            if (KeyUrls.Problem(jwksUrl) is { } problem)
            {
                throw new InvalidOperationException($"jwks_uri {problem}");
            }
        }

        var set = new JsonWebKeySet(await _documents!.GetDocumentAsync(jwksUrl, CancellationToken.None));

        // Signing keys of the asymmetric families only: a symmetric ("oct") key has no business in a public document.
        return
        [
            .. set.Keys.Where(k => (string.IsNullOrEmpty(k.Use) || k.Use == JsonWebKeyUseNames.Sig)
                && KeyAlgorithms.Family(k) is KeyAlgorithms.KeyFamily.Rsa or KeyAlgorithms.KeyFamily.EllipticCurve),
        ];
    }

    public void Dispose()
    {
        _http?.Dispose();
        _refreshing.Dispose();
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    private sealed class Snapshot
    {
        public Snapshot(IReadOnlyList<SecurityKey> all)
        {
            All = all;
            Symmetric = [.. all.OfType<SymmetricSecurityKey>()];
            ById = all.Where(k => !string.IsNullOrEmpty(k.KeyId))
                .GroupBy(k => k.KeyId, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (IReadOnlyList<SecurityKey>)[.. g], StringComparer.Ordinal);
        }

        public IReadOnlyList<SecurityKey> All { get; }

        public IReadOnlyList<SecurityKey> Symmetric { get; }

        public IReadOnlyDictionary<string, IReadOnlyList<SecurityKey>> ById { get; }
    }
}
