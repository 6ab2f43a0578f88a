using Microsoft.Playwright;

namespace Switchboard.Tests.Browser;

/// <summary>One headless chromium; each person gets a context of their own (own cookies and storage), as on their own machine.</summary>
public sealed class ChatBrowser : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly RunOptions _options;

    private ChatBrowser(IPlaywright playwright, IBrowser browser, RunOptions options)
    {
        _playwright = playwright;
        Browser = browser;
        _options = options;
    }

    public IBrowser Browser { get; }

    public static async Task<ChatBrowser> LaunchAsync(RunOptions options)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            // The system's chromium: Playwright never downloads a browser here (the machines have no internet).
            ExecutablePath = options.Chromium,
            Headless = true,
            // Root in CI has no user namespace sandbox; /dev/shm is small in containers.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        return new ChatBrowser(playwright, browser, options);
    }

    /// <summary>A new person at the chat page: their own context, the gateway's self-signed certificate accepted.</summary>
    public async Task<IPage> OpenPageAsync()
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = _options.Gateway.ToString(),
            IgnoreHTTPSErrors = true,
            ViewportSize = new() { Width = 1000, Height = 620 },
            Locale = "en-GB",
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright.Dispose();
    }
}
