using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Switchboard.Tests.Browser;

/// <summary>One person at the chat page, driven the way they would: labels, buttons and the Enter key.</summary>
public sealed class Person(IPage page, string user)
{
    public IPage Page { get; } = page;

    public string User { get; } = user;

    public ILocator Status => Page.Locator("#status");

    public ILocator Notice => Page.GetByRole(AriaRole.Alert);

    public ILocator Messages => Page.GetByRole(AriaRole.List, new() { Name = "Messages" });

    public ILocator Conversation(string id) => Page.Locator($"#conversations button[data-conversation='{id}']");

    public ILocator Message(string text) => Messages.Locator("li:not(.pending)", new() { HasText = text });

    public async Task SignInAsync(string role)
    {
        await Page.GetByLabel("User name", new() { Exact = true }).FillAsync(User);
        await Page.GetByLabel("Role").SelectOptionAsync(role);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Expect(Status).ToHaveAttributeAsync("data-state", "online");
    }

    /// <summary>Signs in the way a secure deployment asks: the token pasted into its field.</summary>
    public async Task PasteTokenAsync(string token)
    {
        await Page.GetByRole(AriaRole.Button, new() { Name = "I have an access token" }).ClickAsync();
        await Page.GetByLabel("Access token").FillAsync(token);
        await Page.GetByLabel("Access token").PressAsync("Enter");
        await Expect(Status).ToHaveAttributeAsync("data-state", "online");
    }

    /// <summary>Types into the message box and presses Enter (no click: the keyboard path is the one tested).</summary>
    public async Task SayAsync(string text)
    {
        var box = Page.GetByLabel("Message", new() { Exact = true });
        await box.FillAsync(text);
        await box.PressAsync("Enter");
        await Expect(Message(text)).ToHaveCountAsync(1);
    }

    public async Task OpenAsync(string conversation)
    {
        await Conversation(conversation).ClickAsync();
        await Expect(Conversation(conversation)).ToHaveAttributeAsync("aria-current", "true");
    }

    /// <summary>Opens a conversation from the keyboard: focus its entry in the list, press Enter.</summary>
    public async Task OpenByKeyboardAsync(string conversation)
    {
        await Conversation(conversation).FocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Conversation(conversation)).ToHaveAttributeAsync("aria-current", "true");
        await Expect(Conversation(conversation)).ToBeFocusedAsync();
    }

    public async Task OpenDirectAsync(string other)
    {
        await Page.GetByLabel("User name to message").FillAsync(other);
        await Page.GetByLabel("User name to message").PressAsync("Enter");
        await Expect(Page.Locator("#conv-title")).ToHaveTextAsync(other);
    }

    /// <summary>The seqs shown in the open conversation: exactly 1..n means nothing missing and nothing twice.</summary>
    public async Task ExpectGaplessAsync()
    {
        var seqs = await Messages.Locator("li[data-seq]").EvaluateAllAsync<int[]>("items => items.map(li => Number(li.dataset.seq))");
        if (!seqs.SequenceEqual(Enumerable.Range(1, seqs.Length)))
        {
            throw new InvalidOperationException($"{User}'s open conversation shows seqs [{string.Join(",", seqs)}], not 1..{seqs.Length}");
        }
    }
}
