using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Switchboard.Tests.Infrastructure;

/// <summary>REST calls against a running host, with dev tokens (or tokens from <paramref name="tokens"/>).</summary>
/// <param name="handler">Optional: e.g. one that accepts the gateway's self-signed certificate.</param>
/// <param name="tokens">Optional: where <see cref="TokenAsync"/> gets tokens instead of <c>POST /api/dev/token</c> (a cluster with dev tokens off).</param>
public sealed class ApiClient(Uri baseAddress, HttpMessageHandler? handler = null, Func<string, string, Task<string>>? tokens = null) : IDisposable
{
    private readonly HttpClient _http = new(
        handler ?? new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = TestTargets.CertificateValidation } },
        disposeHandler: true) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public Uri BaseAddress => baseAddress;

    public async Task<string> TokenAsync(string user, string role = "student")
    {
        if (tokens is not null)
        {
            return await tokens(user, role);
        }

        using var response = await _http.PostAsJsonAsync("/api/dev/token", new { user, role });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("token").GetString()!;
    }

    public async Task<(int Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? token, object? body = null, (string Name, string Value)? header = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (header is { } extra)
        {
            request.Headers.TryAddWithoutValidation(extra.Name, extra.Value);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is string raw)
        {
            request.Content = new StringContent(raw, System.Text.Encoding.UTF8, "application/json");
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var isJson = response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true;
        var json = isJson && text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return ((int)response.StatusCode, json);
    }

    public Task<(int Status, JsonElement Body)> GetAsync(string path, string? token) => SendAsync(HttpMethod.Get, path, token);

    public Task<(int Status, JsonElement Body)> PostAsync(string path, string? token, object? body) => SendAsync(HttpMethod.Post, path, token, body);

    public Task<(int Status, JsonElement Body)> PutAsync(string path, string? token, object? body) => SendAsync(HttpMethod.Put, path, token, body);

    public Task<(int Status, JsonElement Body)> DeleteAsync(string path, string? token) => SendAsync(HttpMethod.Delete, path, token);

    public HttpClient Http => _http;

    public void Dispose() => _http.Dispose();
}
