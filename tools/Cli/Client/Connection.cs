using System.Net.Security;

namespace Switchboard.Cli.Client;

/// <summary>How to reach the server: its address, the bearer token, and whether its certificate is checked.</summary>
public sealed record Connection(ServerAddress Server, string Token, bool Insecure)
{
    /// <summary>Accepts any certificate: only with <c>--insecure</c> (the local cluster's self-signed gateway).</summary>
    public RemoteCertificateValidationCallback? CertificateValidation => Insecure ? static (_, _, _, _) => true : null;

    /// <summary>The token's <c>sub</c>, read without checking the signature: the server checks it, the CLI only needs the name.</summary>
    public string User => TokenClaims.Subject(Token);
}

public static class TokenClaims
{
    public static string Subject(string token) =>
        Payload(token, "sub") is { ValueKind: System.Text.Json.JsonValueKind.String } sub ? sub.GetString()! : throw new CliError("unauthorized", "The token has no 'sub' claim.");

    /// <summary>The token's <c>exp</c>, or null when it has none the CLI can read.</summary>
    public static DateTimeOffset? Expiry(string token) =>
        Payload(token, "exp") is { ValueKind: System.Text.Json.JsonValueKind.Number } exp && exp.TryGetInt64(out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799))
            : null;

    private static System.Text.Json.JsonElement? Payload(string token, string claim)
    {
        var parts = token.Split('.');
        if (parts.Length < 2)
        {
            throw new CliError("unauthorized", "The token is not a JWT.");
        }

        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var document = System.Text.Json.JsonDocument.Parse(Convert.FromBase64String(payload));
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && document.RootElement.TryGetProperty(claim, out var value)
                ? value.Clone()
                : null;
        }
        catch (Exception exception) when (exception is FormatException or System.Text.Json.JsonException)
        {
            throw new CliError("unauthorized", "The token's payload cannot be read.", exception);
        }
    }
}
