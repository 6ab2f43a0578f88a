namespace Switchboard.Silo.Endpoints;

/// <summary><c>GET /</c>: the small chat page of the embedded default, served from the assembly.</summary>
public static class ChatPage
{
    public static IEndpointRouteBuilder MapChatPage(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", async context =>
        {
            await using var page = typeof(ChatPage).Assembly.GetManifestResourceStream("Switchboard.Silo.index.html")
                ?? throw new InvalidOperationException("The chat page is not embedded in the silo assembly.");
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-cache";
            await page.CopyToAsync(context.Response.Body, context.RequestAborted);
        }).AllowAnonymous();
        return endpoints;
    }
}
