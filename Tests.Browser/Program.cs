using Switchboard.Tests.Browser;

// The chat page in a real browser (Debian's chromium, driven by Playwright) against a running local cluster,
// through its gateway. Usage: Switchboard.Tests.Browser [GATEWAY_URL] (see tools/browser-tests.sh).
var options = RunOptions.Parse(args);
Console.WriteLine($"[browser] gateway {options.Gateway}, cluster data {options.DataDir}, chromium {options.Chromium}, screenshots {options.Screenshots}");

var run = new StepRunner(options.Screenshots);
await using (var browser = await ChatBrowser.LaunchAsync(options))
{
    await new ChatScenario(browser, options, run).RunAsync();
}

// A plain closing line CI reads, like tools/test.sh's.
Console.WriteLine($"{run.Passed} passed, {run.Failed} failed");
return run.Failed == 0 && run.Passed > 0 ? 0 : 1;
