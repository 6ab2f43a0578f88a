using System.Diagnostics;
using Microsoft.Playwright;

namespace Switchboard.Tests.Browser;

/// <summary>
/// Runs the scenario's steps in order, each a check a person would notice, with a screenshot after it. The steps
/// build on each other: after a failure the rest are reported as not run and counted as failed, never skipped silently.
/// </summary>
public sealed class StepRunner(string screenshots)
{
    private int _index;
    private bool _broken;

    public int Passed { get; private set; }

    public int Failed { get; private set; }

    public async Task StepAsync(string name, Func<IPage?>? shot, Func<Task> body)
    {
        var number = ++_index;
        if (_broken)
        {
            Failed++;
            Console.WriteLine($"[browser] NOT RUN {number:00} {name} (an earlier step failed)");
            return;
        }

        var clock = Stopwatch.StartNew();
        try
        {
            await body();
            Passed++;
            Console.WriteLine($"[browser] PASS {number:00} {name} ({clock.Elapsed.TotalSeconds:0.0} s)");
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException or InvalidOperationException or IOException or HttpRequestException)
        {
            Failed++;
            _broken = true;
            Console.WriteLine($"[browser] FAIL {number:00} {name} ({clock.Elapsed.TotalSeconds:0.0} s): {e.Message}");
        }

        if (shot?.Invoke() is { IsClosed: false } page)
        {
            await ScreenshotAsync(Slug(name), page);
        }
    }

    /// <summary>A screenshot named after the current step, under the screenshots folder.</summary>
    public async Task ScreenshotAsync(string name, IPage page)
    {
        Directory.CreateDirectory(screenshots);
        var file = Path.Combine(screenshots, $"{_index:00}-{name}.png");
        try
        {
            await page.ScreenshotAsync(new() { Path = file });
        }
        catch (PlaywrightException e)
        {
            Console.WriteLine($"[browser] no screenshot {file}: {e.Message}");
        }
    }

    private static string Slug(string name)
    {
        var slug = string.Join('-', new string([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : ' ')])
            .Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return slug.Length > 60 ? slug[..60] : slug;
    }
}
