using System.Net.Http.Headers;
using System.Net.Security;
using System.Text;
using System.Text.Json;

namespace Switchboard.Bench.Load;

/// <summary>The REST calls of the set-up (development tokens, groups) and the failover drill's conversation list (docs/protocol.md, REST).</summary>
internal sealed class DevApi : IDisposable
{
    private readonly HttpClient _http;

    public DevApi(bool insecure)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 32, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (insecure)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
        }

        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>http(s):// of a ws(s):// target: where its REST API answers.</summary>
    public static Uri HttpBase(Uri target) =>
        new UriBuilder(target) { Scheme = target.Scheme == "wss" ? "https" : "http", Port = target.Port }.Uri;

    /// <summary><c>POST /api/dev/token</c> <c>{"user":..,"role":..}</c> → the token.</summary>
    public async Task<string> TokenAsync(Uri target, string user, string role, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, string> { ["user"] = user, ["role"] = role });
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(new Uri(HttpBase(target), "/api/dev/token"), content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {HttpBase(target)}api/dev/token for {user}: HTTP {(int)response.StatusCode} {body}");
        }

        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("token").GetString()
            ?? throw new InvalidOperationException($"POST /api/dev/token for {user}: no token in {body}");
    }

    /// <summary><c>PUT /api/groups/{id}</c> <c>{"policy":..}</c>: creates the group (the caller owns it) or changes its policy.</summary>
    public async Task PutGroupAsync(Uri target, string token, string group, string policy, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, string> { ["policy"] = policy });
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(HttpBase(target), $"/api/groups/{Uri.EscapeDataString(group)}"))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"PUT /api/groups/{group}: HTTP {(int)response.StatusCode} {body}");
        }
    }

    /// <summary><c>PUT /api/groups/{id}/members/{user}</c> <c>{"role":..}</c>: adds a member or changes their role; the HTTP status.</summary>
    public async Task<int> PutMemberAsync(Uri target, string token, string group, string user, string role, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, string> { ["role"] = role });
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(HttpBase(target), $"/api/groups/{Uri.EscapeDataString(group)}/members/{Uri.EscapeDataString(user)}"))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.TryAddWithoutValidation("Prefer", "return=minimal");
        using var response = await _http.SendAsync(request, cancellationToken);
        return (int)response.StatusCode;
    }

    /// <summary><c>GET /api/users/{user}/conversations</c>: each conversation of the user with its latest seq.</summary>
    public async Task<IReadOnlyList<(string Conversation, long Seq)>> ConversationsAsync(Uri target, string token, string user, CancellationToken cancellationToken)
    {
        using var document = await GetAsync(target, token, $"/api/users/{Uri.EscapeDataString(user)}/conversations", cancellationToken);
        return [.. document.RootElement.EnumerateArray().Select(c => (c.GetProperty("conversation").GetString()!, c.GetProperty("seq").GetInt64()))];
    }

    /// <summary><c>GET /api/conversations/{id}/messages?after=&amp;limit=</c>: one page of history, each message's seq and id.</summary>
    public async Task<IReadOnlyList<(long Seq, string Id)>> HistoryAsync(Uri target, string token, string conversation, long after, int limit, CancellationToken cancellationToken)
    {
        using var document = await GetAsync(target, token, $"/api/conversations/{Uri.EscapeDataString(conversation)}/messages?after={after}&limit={limit}", cancellationToken);
        return [.. document.RootElement.EnumerateArray().Select(m => (m.GetProperty("seq").GetInt64(), m.GetProperty("id").GetString() ?? string.Empty))];
    }

    /// <summary>A GET with the bearer token; the JSON body, or an exception naming the path and the status.</summary>
    private async Task<JsonDocument> GetAsync(Uri target, string token, string pathAndQuery, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(HttpBase(target), pathAndQuery));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode
            ? JsonDocument.Parse(body)
            : throw new InvalidOperationException($"GET {pathAndQuery.Split('?')[0]}: HTTP {(int)response.StatusCode} {body}");
    }

    public void Dispose() => _http.Dispose();
}
