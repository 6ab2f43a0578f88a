namespace Switchboard.Cluster.Security.Tokens;

/// <summary>Where a socket upgrade carries its bearer token: one rule for the silo and the gateway.</summary>
public static class BearerTokens
{
    /// <summary>The query parameter browsers put the token in (they cannot set headers on a WebSocket).</summary>
    public const string QueryParameter = "access_token";

    /// <summary>
    /// The bearer token: from <c>Authorization: Bearer</c>, or, when there is no <c>Authorization</c> header, from
    /// <c>access_token</c> in the query. An <c>Authorization</c> header of another scheme yields none.
    /// </summary>
    public static string? Read(string? authorization, string? fromQuery)
    {
        const string Scheme = "Bearer ";
        if (authorization is null)
        {
            return fromQuery;
        }

        return authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? authorization[Scheme.Length..].Trim() : null;
    }
}
