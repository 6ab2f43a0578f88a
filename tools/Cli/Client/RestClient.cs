using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Switchboard.Cli.Client;

/// <summary>The REST half of the protocol: bearer token in the header, problem details turned into <see cref="CliError"/>.</summary>
public sealed class RestClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string? _token;

    public RestClient(ServerAddress server, string? token, bool insecure)
    {
        // The protocol has no redirects; following one could carry a request where --server did not say.
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false };
        if (insecure)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }

        // A history page is at most 1,000 messages and about 1 MiB of bodies by default: 64 MiB bounds a hostile server, not a real one.
        _http = new HttpClient(handler, disposeHandler: true) { BaseAddress = server.Rest, Timeout = TimeSpan.FromSeconds(30), MaxResponseContentBufferSize = 64 * 1024 * 1024 };
        _token = token;
    }

    public async Task<string> DevTokenAsync(string user, string role, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Post, "api/dev/token", JsonContent.Create(new TokenRequest(user, role), CliJson.Default.TokenRequest), CliJson.Default.TokenReply, cancellationToken))!.Token;

    public async Task<List<ServerFrame>> HistoryPageAsync(string conversation, long after, int limit, CancellationToken cancellationToken)
    {
        var (page, _) = await SendRawAsync(HttpMethod.Get, $"api/conversations/{Uri.EscapeDataString(conversation)}/messages?after={after}&limit={limit}", null, cancellationToken);
        var frames = new List<ServerFrame>();
        using var document = JsonDocument.Parse(page);
        foreach (var element in document.RootElement.EnumerateArray())
        {
            frames.Add(ServerFrame.Parse(element.GetRawText()));
        }

        return frames;
    }

    public async Task<List<ConversationSeq>> ConversationsAsync(string user, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, $"api/users/{Uri.EscapeDataString(user)}/conversations", null, CliJson.Default.ListConversationSeq, cancellationToken) ?? [];

    public async Task<Presence> PresenceAsync(string user, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Get, $"api/users/{Uri.EscapeDataString(user)}/presence", null, CliJson.Default.Presence, cancellationToken))!;

    public async Task<GroupView> PutGroupAsync(string group, string policy, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Put, $"api/groups/{Uri.EscapeDataString(group)}", JsonContent.Create(new PolicyRequest(policy), CliJson.Default.PolicyRequest), CliJson.Default.GroupView, cancellationToken))!;

    public async Task<GroupView> PutMemberAsync(string group, string user, string role, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Put, $"api/groups/{Uri.EscapeDataString(group)}/members/{Uri.EscapeDataString(user)}", JsonContent.Create(new RoleRequest(role), CliJson.Default.RoleRequest), CliJson.Default.GroupView, cancellationToken))!;

    public Task RemoveMemberAsync(string group, string user, CancellationToken cancellationToken) =>
        SendRawAsync(HttpMethod.Delete, $"api/groups/{Uri.EscapeDataString(group)}/members/{Uri.EscapeDataString(user)}", null, cancellationToken);

    public async Task<GroupView> GroupAsync(string group, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Get, $"api/groups/{Uri.EscapeDataString(group)}", null, CliJson.Default.GroupView, cancellationToken))!;

    public async Task<Receipts> ReceiptsAsync(string conversation, long seq, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Get, $"api/conversations/{Uri.EscapeDataString(conversation)}/receipts?seq={seq}", null, CliJson.Default.Receipts, cancellationToken))!;

    public Task DeleteMessageAsync(string conversation, long seq, CancellationToken cancellationToken) =>
        SendRawAsync(HttpMethod.Delete, $"api/conversations/{Uri.EscapeDataString(conversation)}/messages/{seq}", null, cancellationToken);

    public async Task<GroupMute> PutMuteAsync(string group, string user, string? until, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Put, Moderation(group, "mutes", user), JsonContent.Create(new MuteRequest(until), CliJson.Default.MuteRequest), CliJson.Default.GroupMute, cancellationToken))!;

    public Task DeleteMuteAsync(string group, string user, CancellationToken cancellationToken) =>
        SendRawAsync(HttpMethod.Delete, Moderation(group, "mutes", user), null, cancellationToken);

    public Task PutBanAsync(string group, string user, CancellationToken cancellationToken) =>
        SendRawAsync(HttpMethod.Put, Moderation(group, "bans", user), JsonContent.Create(new EmptyRequest(), CliJson.Default.EmptyRequest), cancellationToken);

    public Task DeleteBanAsync(string group, string user, CancellationToken cancellationToken) =>
        SendRawAsync(HttpMethod.Delete, Moderation(group, "bans", user), null, cancellationToken);

    public void Dispose() => _http.Dispose();

    private static string Moderation(string group, string kind, string user) =>
        $"api/groups/{Uri.EscapeDataString(group)}/{kind}/{Uri.EscapeDataString(user)}";

    private async Task<T?> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        var (body, _) = await SendRawAsync(method, path, content, cancellationToken);
        try
        {
            return JsonSerializer.Deserialize(body, type);
        }
        catch (JsonException exception)
        {
            throw new CliError(ExitCodes.ConnectionCode, $"The server's reply to {method} /{path} is not what the protocol describes.", exception);
        }
    }

    private async Task<(string Body, int Status)> SendRawAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (_token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            throw new CliError(ExitCodes.ConnectionCode, $"Cannot reach {_http.BaseAddress}: {Describe(exception)}", exception);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return (body, (int)response.StatusCode);
            }

            throw ProblemToError((int)response.StatusCode, body, $"{method} /{path}");
        }
    }

    private static CliError ProblemToError(int status, string body, string request)
    {
        Problem? problem = null;
        try
        {
            problem = body.Length > 0 ? JsonSerializer.Deserialize(body, CliJson.Default.Problem) : null;
        }
        catch (JsonException)
        {
            // Not problem details (a proxy's own page, say): the status still names the error.
        }

        var code = problem?.Code ?? ExitCodes.CodeForStatus(status);
        return new CliError(code, problem?.Detail ?? problem?.Title ?? $"{request} answered HTTP {status}.");
    }

    /// <summary>The innermost reason (a refused connection, a certificate the CLI does not trust), which is what a person can act on.</summary>
    internal static string Describe(Exception exception)
    {
        var reason = exception;
        while (reason.InnerException is not null)
        {
            reason = reason.InnerException;
        }

        return reason == exception ? exception.Message : $"{exception.Message} ({reason.Message})";
    }
}
