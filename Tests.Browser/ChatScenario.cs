using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Switchboard.Tests.Browser;

/// <summary>
/// A class at the chat page through the gateway: a teacher and two students exchange group and direct messages, a
/// student is refused in an announce group, unread counts agree across a student's two pages, receipts and typing show,
/// the teacher mutes, deletes and bans, an admin opens the dashboard; then the silo holding a student's socket is killed
/// and the pages come back on the other silo with what was sent meanwhile, each message exactly once.
/// </summary>
public sealed class ChatScenario(ChatBrowser browser, RunOptions options, StepRunner run)
{
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(60);

    // Fresh names every run: the durable cluster keeps groups and conversations across runs.
    private readonly string _run = Guid.NewGuid().ToString("N")[..6];

    public async Task RunAsync()
    {
        SetDefaultExpectTimeout(20_000);
        Person teacher = null!, amy = null!, ben = null!;
        var group = $"class-{_run}";
        var announce = $"news-{_run}";

        await run.StepAsync("sign-in offers development tokens and keeps the protocol log hidden", () => teacher.Page, async () =>
        {
            teacher = new Person(await browser.OpenPageAsync(), $"teacher-{_run}");
            await Expect(teacher.Page.GetByLabel("User name", new() { Exact = true })).ToBeVisibleAsync();
            await Expect(teacher.Page.Locator("#log-panel")).ToBeHiddenAsync();
            await teacher.SignInAsync("teacher");
            await Expect(teacher.Page.Locator("#me")).ToHaveTextAsync($"{teacher.User} (teacher)");
        });

        await run.StepAsync("two students sign in, one with a development token, one by pasting an access token", () => amy.Page, async () =>
        {
            amy = new Person(await browser.OpenPageAsync(), $"amy-{_run}");
            ben = new Person(await browser.OpenPageAsync(), $"ben-{_run}");
            await amy.SignInAsync("student");
            await ben.PasteTokenAsync(await DevTokenAsync(ben.User, "student"));
            await Expect(ben.Page.Locator("#me")).ToHaveTextAsync($"{ben.User} (student)");
            await Expect(amy.Page.GetByRole(AriaRole.Link, new() { Name = "Cluster dashboard" })).ToBeHiddenAsync();
        });

        await run.StepAsync("the teacher creates a group and adds both students", () => teacher.Page, async () =>
        {
            await teacher.Page.GetByLabel("New group name").FillAsync(group);
            await teacher.Page.GetByLabel("Who may post").SelectOptionAsync("members");
            await teacher.Page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
            await Expect(teacher.Page.Locator("#conv-title")).ToHaveTextAsync(group);
            foreach (var student in new[] { amy, ben })
            {
                await teacher.Page.GetByLabel("Student to add").FillAsync(student.User);
                await teacher.Page.GetByLabel("Student to add").PressAsync("Enter");
                await Expect(teacher.Page.Locator("#members-list")).ToContainTextAsync(student.User);
            }
        });

        await run.StepAsync("the teacher posts; each student sees the group marked unread and reads the post once", () => amy.Page, async () =>
        {
            await teacher.SayAsync("Welcome to the class");
            foreach (var student in new[] { amy, ben })
            {
                await Expect(student.Conversation($"group:{group}").Locator(".badge")).ToHaveTextAsync("1");
                await Expect(student.Conversation($"group:{group}")).ToContainTextAsync(group);
            }

            await amy.OpenAsync($"group:{group}");
            await Expect(amy.Message("Welcome to the class")).ToHaveCountAsync(1);
            await Expect(amy.Conversation($"group:{group}").Locator(".badge")).ToHaveCountAsync(0);
        });

        await run.StepAsync("a student replies in the group; the teacher and the other student see it", () => teacher.Page, async () =>
        {
            await amy.SayAsync("Thank you!");
            await Expect(teacher.Message("Thank you!")).ToHaveCountAsync(1);
            await ben.OpenAsync($"group:{group}");
            await Expect(ben.Message("Welcome to the class")).ToHaveCountAsync(1);
            await Expect(ben.Message("Thank you!")).ToHaveCountAsync(1);
            await ben.ExpectGaplessAsync();
        });

        var dm = Dm(ben.User, teacher.User);
        await run.StepAsync("a direct message both ways, listed under the other person's name, with presence", () => teacher.Page, async () =>
        {
            await ben.OpenDirectAsync(teacher.User);
            await ben.SayAsync("May I hand in the homework tomorrow?");
            await Expect(teacher.Conversation(dm)).ToContainTextAsync(ben.User);
            await Expect(teacher.Conversation(dm).Locator(".badge")).ToHaveTextAsync("1");
            await teacher.OpenByKeyboardAsync(dm);
            await Expect(teacher.Page.Locator("#conv-title")).ToHaveTextAsync(ben.User);
            await Expect(teacher.Page.Locator("#conv-sub")).ToHaveTextAsync("online");
            await Expect(teacher.Message("May I hand in the homework tomorrow?")).ToHaveCountAsync(1);
            await teacher.SayAsync("Yes, by noon.");
            await Expect(ben.Message("Yes, by noon.")).ToHaveCountAsync(1);
        });

        await run.StepAsync("a student posting to an announce group is told it is not allowed", () => ben.Page, async () =>
        {
            await teacher.Page.GetByLabel("New group name").FillAsync(announce);
            await teacher.Page.GetByLabel("Who may post").SelectOptionAsync("announce");
            await teacher.Page.GetByLabel("New group name").PressAsync("Enter");
            await Expect(teacher.Page.Locator("#conv-sub")).ToContainTextAsync("only owners post");
            await ben.Page.GetByLabel("Group name to join").FillAsync(announce);
            await ben.Page.GetByLabel("Group name to join").PressAsync("Enter");
            await Expect(ben.Page.Locator("#conv-title")).ToHaveTextAsync(announce);
            await ben.Page.GetByLabel("Message", new() { Exact = true }).FillAsync("Can I post here?");
            await ben.Page.GetByLabel("Message", new() { Exact = true }).PressAsync("Enter");
            await Expect(ben.Notice).ToContainTextAsync("Not allowed");
            await Expect(ben.Messages.Locator("li", new() { HasText = "Can I post here?" })).ToHaveCountAsync(0);
            await run.ScreenshotAsync("not-allowed", ben.Page);
            await ben.Page.GetByRole(AriaRole.Button, new() { Name = "Dismiss message" }).ClickAsync();
        });

        await run.StepAsync("a long user id is ellipsized inside the conversation list", () => amy.Page, async () =>
        {
            var longUser = ("student-with-a-very-long-identifier-" + _run + new string('x', 64))[..64];
            await amy.OpenDirectAsync(longUser);
            await Expect(amy.Conversation(Dm(amy.User, longUser))).ToBeVisibleAsync();
            // Cut (its text is wider than its box) and inside the list's panel; read in one go, as the list re-renders.
            var layout = await amy.Page.EvaluateAsync<double[]>(
                "id => { const n = document.querySelector(`#conversations button[data-conversation='${id}'] .conv-name`);"
                + " return [n.scrollWidth, n.clientWidth, n.getBoundingClientRect().right, document.querySelector('aside').getBoundingClientRect().right]; }",
                Dm(amy.User, longUser));
            if (!(layout[0] > layout[1] && layout[2] <= layout[3] + 0.5))
            {
                throw new InvalidOperationException($"the long name is not cut inside the list panel (text {layout[0]} px in a {layout[1]} px box ending at {layout[2]}, the panel at {layout[3]})");
            }

            await amy.OpenAsync($"group:{group}");
        });

        // Protocol 1.1 on the page: read markers, receipts, typing and moderation.
        Person amyAgain = null!;
        await run.StepAsync("two pages of the same student agree on unread counts, from the list and from live read frames", () => amyAgain.Page, async () =>
        {
            await amy.OpenDirectAsync(teacher.User);
            amyAgain = new Person(await browser.OpenPageAsync(), amy.User);
            await amyAgain.SignInAsync("student");
            // The list's read markers: amy read the group on her first page, so her second shows it without a badge.
            await Expect(amyAgain.Conversation($"group:{group}")).ToBeVisibleAsync();
            await Expect(amyAgain.Conversation($"group:{group}").Locator(".badge")).ToHaveCountAsync(0);

            await teacher.OpenAsync($"group:{group}");
            await teacher.SayAsync("Homework: page 12");
            await teacher.SayAsync("And page 13");
            foreach (var page in new[] { amy, amyAgain })
            {
                await Expect(page.Conversation($"group:{group}").Locator(".badge")).ToHaveTextAsync("2");
            }

            await run.ScreenshotAsync("unread-on-two-pages", amyAgain.Page);
            // Reading on one page clears the other's badge: the read frame travels to the user's other connections.
            var readsBefore = await ReadFramesSentAsync(amy);
            await amy.OpenAsync($"group:{group}");
            await Expect(amy.Message("And page 13")).ToHaveCountAsync(1);
            await Expect(amyAgain.Conversation($"group:{group}").Locator(".badge")).ToHaveCountAsync(0);
            // Two new messages shown, one read frame: the marker is sent for the burst, not per message.
            var sent = await ReadFramesSentAsync(amy) - readsBefore;
            if (sent != 1)
            {
                throw new InvalidOperationException($"{amy.User}'s page sent {sent} read frames for one opening of the group, not 1");
            }
            await Expect(amyAgain.Page).ToHaveTitleAsync($"Switchboard · {amy.User}");
        });

        await run.StepAsync("the teacher sees \"read by N of M\" on a post rise as the students read it", () => teacher.Page, async () =>
        {
            // amy has read it (the previous step), ben has not: he is in the announce group.
            await ExpectReceiptAsync(teacher, "And page 13", "read by 1 of 2");
            await ben.OpenAsync($"group:{group}");
            await Expect(ben.Message("And page 13")).ToHaveCountAsync(1);
            await ExpectReceiptAsync(teacher, "And page 13", "read by 2 of 2");
            // Receipts are the sender's and the owners': a student sees none on the teacher's post.
            await Expect(ben.Message("And page 13").Locator(".receipt")).ToBeHiddenAsync();
        });

        await run.StepAsync("direct message ticks go from sent to read when the other person opens the conversation", () => teacher.Page, async () =>
        {
            // ben read "Yes, by noon." when it arrived: the receipts endpoint says so when the teacher opens the conversation.
            await teacher.OpenAsync(dm);
            await Expect(teacher.Message("Yes, by noon.").Locator(".receipt")).ToHaveTextAsync("✓✓ Read");
            await teacher.SayAsync("Bring your exercise book too.");
            await Expect(teacher.Message("Bring your exercise book too.").Locator(".receipt")).ToHaveTextAsync("✓ Sent");
            await run.ScreenshotAsync("dm-sent-not-read", teacher.Page);
            await ben.OpenAsync(dm);
            await Expect(ben.Message("Bring your exercise book too.")).ToHaveCountAsync(1);
            // The live read frame of the peer turns the tick, without a reload or a request.
            await Expect(teacher.Message("Bring your exercise book too.").Locator(".receipt")).ToHaveTextAsync("✓✓ Read");
            await Expect(ben.Message("Bring your exercise book too.").Locator(".receipt")).ToBeHiddenAsync();
        });

        await run.StepAsync("the other side sees \"typing…\" while a student writes, gone when the message arrives", () => teacher.Page, async () =>
        {
            var box = ben.Page.GetByLabel("Message", new() { Exact = true });
            await box.FillAsync("");
            await box.PressSequentiallyAsync("Will do");
            await Expect(teacher.Page.Locator("#typing")).ToHaveTextAsync($"{ben.User} is typing…");
            await run.ScreenshotAsync("typing", teacher.Page);
            await box.PressAsync("Enter");
            await Expect(teacher.Message("Will do")).ToHaveCountAsync(1);
            await Expect(teacher.Page.Locator("#typing")).ToHaveTextAsync("");
            await Expect(ben.Page.Locator("#typing")).ToHaveTextAsync("");
        });

        await run.StepAsync("the teacher mutes a student: her post is refused in plain words; unmuted, she posts again", () => amy.Page, async () =>
        {
            await teacher.OpenAsync($"group:{group}");
            var moderation = teacher.Page.GetByRole(AriaRole.List, new() { Name = "Members and moderation" });
            await moderation.GetByLabel($"Mute {amy.User} for").SelectOptionAsync(new SelectOptionValue { Label = "10 minutes" });
            await moderation.GetByRole(AriaRole.Button, new() { Name = $"Mute {amy.User}", Exact = true }).ClickAsync();
            await Expect(moderation.Locator("li", new() { HasText = amy.User }).Locator(".flag")).ToContainTextAsync("muted until");
            // Only owners and admins see the controls.
            await Expect(amy.Page.GetByRole(AriaRole.List, new() { Name = "Members and moderation" })).ToHaveCountAsync(0);

            await amy.Page.GetByLabel("Message", new() { Exact = true }).FillAsync("Am I muted?");
            await amy.Page.GetByLabel("Message", new() { Exact = true }).PressAsync("Enter");
            await Expect(amy.Notice).ToContainTextAsync($"You are muted in {group} until");
            await Expect(amy.Messages.Locator("li", new() { HasText = "Am I muted?" })).ToHaveCountAsync(0);
            // What she wrote is back in the box, not lost.
            await Expect(amy.Page.GetByLabel("Message", new() { Exact = true })).ToHaveValueAsync("Am I muted?");
            await run.ScreenshotAsync("muted", amy.Page);
            await amy.Page.GetByRole(AriaRole.Button, new() { Name = "Dismiss message" }).ClickAsync();

            await moderation.GetByRole(AriaRole.Button, new() { Name = $"Unmute {amy.User}", Exact = true }).ClickAsync();
            await Expect(moderation.Locator("li", new() { HasText = amy.User }).Locator(".flag")).ToHaveCountAsync(0);
            await amy.SayAsync("Unmuted now");
            await Expect(teacher.Message("Unmuted now")).ToHaveCountAsync(1);
        });

        await run.StepAsync("the teacher deletes a student's post and the student deletes her own: both sides show them deleted, live and in history", () => teacher.Page, async () =>
        {
            var seq = await teacher.Message("Unmuted now").GetAttributeAsync("data-seq");
            await teacher.Message("Unmuted now").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
            foreach (var person in new[] { teacher, amy })
            {
                await Expect(person.Messages.Locator($"li[data-seq='{seq}']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("message deleted"));
                await Expect(person.Message("Unmuted now")).ToHaveCountAsync(0);
            }

            await amy.SayAsync("Oops, wrong group");
            await Expect(teacher.Message("Oops, wrong group")).ToHaveCountAsync(1);
            var own = await amy.Message("Oops, wrong group").GetAttributeAsync("data-seq");
            await amy.Message("Oops, wrong group").GetByRole(AriaRole.Button, new() { Name = "Delete your message" }).ClickAsync();
            await Expect(teacher.Messages.Locator($"li[data-seq='{own}']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("message deleted"));
            await Expect(teacher.Message("Oops, wrong group")).ToHaveCountAsync(0);
            // A student may not delete the teacher's post: no button.
            await Expect(amy.Message("And page 13").GetByRole(AriaRole.Button, new() { Name = "Delete" })).ToHaveCountAsync(0);
            await run.ScreenshotAsync("teacher-moderation", teacher.Page);

            // History (a page signed in afresh) returns them as deleted.
            await amyAgain.Page.ReloadAsync();
            await amyAgain.SignInAsync("student");
            await amyAgain.OpenAsync($"group:{group}");
            await Expect(amyAgain.Messages.Locator($"li[data-seq='{seq}']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("message deleted"));
            await Expect(amyAgain.Messages.Locator($"li[data-seq='{own}']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("message deleted"));
            await amyAgain.ExpectGaplessAsync();
            await amyAgain.Page.Context.CloseAsync();
        });

        await run.StepAsync("an admin opens the dashboard from the chat page through the gateway", null, async () =>
        {
            var admin = new Person(await browser.OpenPageAsync(), $"admin-{_run}");
            await admin.SignInAsync("admin");
            var link = admin.Page.GetByRole(AriaRole.Link, new() { Name = "Cluster dashboard" });
            var popupTask = admin.Page.Context.WaitForPageAsync();
            await link.ClickAsync();
            var dashboard = await popupTask;
            // The dashboard polls the cluster with XHR under /dashboard/: the first answered poll proves the proxy path.
            var poll = await dashboard.WaitForResponseAsync(r => r.Url.Contains("/dashboard/", StringComparison.Ordinal) && r.Request.ResourceType is "xhr" or "fetch");
            if (poll.Status != 200)
            {
                throw new InvalidOperationException($"the dashboard's poll {poll.Url} answered {poll.Status}");
            }

            if (new Uri(dashboard.Url).Query.Contains("access_token", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("the token is in the dashboard's address");
            }

            await dashboard.WaitForLoadStateAsync(LoadState.NetworkIdle, new() { Timeout = 15_000 }).ContinueWith(_ => { }, TaskScheduler.Default);
            await run.ScreenshotAsync("dashboard", dashboard);
            await admin.Page.Context.CloseAsync();
        });

        var meanwhile = $"Sent while you were away {_run}";
        string killed = "";
        await run.StepAsync("kill -9 of the silo holding a student's socket: the page reconnects to the other silo and resumes", () => amy.Page, async () =>
        {
            await amy.OpenDirectAsync(teacher.User);
            killed = await amy.Status.GetAttributeAsync("data-node") ?? throw new InvalidOperationException("amy's page shows no node");
            var pid = options.SiloPid(killed);

            var clock = Stopwatch.StartNew();
            Process.GetProcessById(pid).Kill();
            Console.WriteLine($"[browser] killed {killed} (pid {pid}) under {amy.User}'s socket; others on {await NodesAsync(teacher, ben)}");

            // The page must stay away until the message is accepted, or it could arrive live rather than by resume:
            // the browser is cut off from the network (its socket closes if the kill has not closed it yet).
            await amy.Page.Context.SetOfflineAsync(true);
            await Expect(amy.Status).Not.ToHaveAttributeAsync("data-node", killed, new() { Timeout = (float)RecoveryDeadline.TotalMilliseconds });
            await Expect(amy.Status).ToHaveAttributeAsync("data-state", "offline");
            Console.WriteLine($"[browser] {amy.User}'s page noticed after {clock.Elapsed.TotalSeconds:0.0} s");

            var accepted = await SendByRestAsync(teacher.User, "teacher", $"user:{amy.User}", meanwhile);
            Console.WriteLine($"[browser] REST send accepted as seq {accepted} after {clock.Elapsed.TotalSeconds:0.0} s");
            await amy.Page.Context.SetOfflineAsync(false);

            await Expect(amy.Status).ToHaveAttributeAsync("data-state", "online", new() { Timeout = (float)RecoveryDeadline.TotalMilliseconds });
            var node = await amy.Status.GetAttributeAsync("data-node");
            Console.WriteLine($"[browser] {amy.User}'s page back online on {node} after {clock.Elapsed.TotalSeconds:0.0} s");
            if (node == killed)
            {
                throw new InvalidOperationException($"the page reconnected to the killed silo {killed}");
            }

            await Expect(amy.Message(meanwhile)).ToHaveCountAsync(1);
            await amy.ExpectGaplessAsync();
            await ExpectFullJitterAsync(amy);
        });

        await run.StepAsync("after the failover every page is online and a group post reaches both students exactly once", () => ben.Page, async () =>
        {
            foreach (var person in new[] { teacher, amy, ben })
            {
                await Expect(person.Status).ToHaveAttributeAsync("data-state", "online", new() { Timeout = (float)RecoveryDeadline.TotalMilliseconds });
            }

            Console.WriteLine($"[browser] after the failover: {await NodesAsync(teacher, amy, ben)}");
            await teacher.OpenAsync($"group:{group}");
            await teacher.SayAsync("Back after the failover");
            await ben.OpenAsync($"group:{group}");
            await amy.OpenAsync($"group:{group}");
            foreach (var student in new[] { amy, ben })
            {
                await Expect(student.Message("Back after the failover")).ToHaveCountAsync(1);
                await Expect(student.Message("Welcome to the class")).ToHaveCountAsync(1);
                await student.ExpectGaplessAsync();
            }

            await amy.OpenAsync(Dm(amy.User, teacher.User));
            await Expect(amy.Message(meanwhile)).ToHaveCountAsync(1);
        });

        await run.StepAsync("the teacher bans a student: he stops receiving the group and his post is refused", () => ben.Page, async () =>
        {
            await teacher.OpenAsync($"group:{group}");
            var moderation = teacher.Page.GetByRole(AriaRole.List, new() { Name = "Members and moderation" });
            await moderation.GetByRole(AriaRole.Button, new() { Name = $"Ban {ben.User}", Exact = true }).ClickAsync();
            await Expect(moderation.Locator("li", new() { HasText = ben.User }).Locator(".flag")).ToHaveTextAsync("banned");
            await Expect(moderation.GetByRole(AriaRole.Button, new() { Name = $"Unban {ben.User}", Exact = true })).ToBeVisibleAsync();

            await amy.OpenAsync($"group:{group}");
            await teacher.SayAsync("Only for those still here");
            await Expect(amy.Message("Only for those still here")).ToHaveCountAsync(1);
            // The ban took ben off the group's delivery before the PUT returned, so by now the post would have reached him.
            await Expect(ben.Messages.Locator("li", new() { HasText = "Only for those still here" })).ToHaveCountAsync(0);
            await ben.Page.GetByLabel("Message", new() { Exact = true }).FillAsync("Let me back in");
            await ben.Page.GetByLabel("Message", new() { Exact = true }).PressAsync("Enter");
            await Expect(ben.Notice).ToContainTextAsync($"You were removed from {group}");
            await Expect(teacher.Message("Let me back in")).ToHaveCountAsync(0);
            await run.ScreenshotAsync("banned-teacher-view", teacher.Page);
        });
    }

    /// <summary>
    /// The protocol log (opened with its toggle) lists each reconnect delay: the n-th attempt in a row waits a random
    /// time in [0, min(30 s, 0.5 s × 2^(n-1))], full jitter.
    /// </summary>
    private static async Task ExpectFullJitterAsync(Person person)
    {
        await person.Page.GetByRole(AriaRole.Button, new() { Name = "Show protocol log" }).ClickAsync();
        var log = person.Page.GetByRole(AriaRole.Log);
        await Expect(log).ToBeVisibleAsync();
        await Expect(log).ToContainTextAsync("reconnect attempt 1 in");
        var attempts = System.Text.RegularExpressions.Regex.Matches(await log.InnerTextAsync(), @"reconnect attempt (\d+) in ([\d.]+) s")
            .Select(m => (N: int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Delay: double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        Console.WriteLine($"[browser] {person.User}'s reconnect delays: {string.Join(", ", attempts.Select(a => $"#{a.N} {a.Delay:0.00} s"))}");
        foreach (var (n, delay) in attempts)
        {
            if (delay < 0 || delay > Math.Min(30, 0.5 * Math.Pow(2, n - 1)) + 0.005)
            {
                throw new InvalidOperationException($"reconnect attempt {n} waited {delay} s, outside [0, min(30, 0.5 × 2^{n - 1})]");
            }
        }

        await person.Page.GetByRole(AriaRole.Button, new() { Name = "Hide protocol log" }).ClickAsync();
        await Expect(log).ToBeHiddenAsync();
    }

    /// <summary>
    /// Receipts are asked for, not pushed: clicks the post's receipt (which asks again) until it says what is expected.
    /// </summary>
    private static async Task ExpectReceiptAsync(Person person, string text, string expected)
    {
        var receipt = person.Message(text).Locator(".receipt");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await receipt.ClickAsync();
            try
            {
                await Expect(receipt).ToHaveTextAsync(expected, new() { Timeout = 2_000 });
                return;
            }
            catch (PlaywrightException) when (deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                Console.WriteLine($"[browser] {person.User} sees \"{await receipt.TextContentAsync()}\" on \"{text}\", waiting for \"{expected}\"");
            }
        }
    }

    /// <summary>How many read frames the page has sent, from its protocol log (kept in the page even while hidden).</summary>
    private static Task<int> ReadFramesSentAsync(Person person) =>
        person.Page.EvaluateAsync<int>("() => [...document.querySelectorAll('#log div')].filter(d => d.textContent.includes('→ read ')).length");

    private static async Task<string> NodesAsync(params Person[] people) =>
        string.Join(", ", await Task.WhenAll(people.Select(async p => $"{p.User} {await p.Status.GetAttributeAsync("data-node") ?? "offline"}")));

    private static string Dm(string a, string b) => string.CompareOrdinal(a, b) < 0 ? $"dm:{a}:{b}" : $"dm:{b}:{a}";

    private async Task<string> DevTokenAsync(string user, string role, HttpClient? client = null)
    {
        using var own = client is null ? Http() : null;
        var http = client ?? own!;
        using var response = (await http.PostAsJsonAsync("api/dev/token", new { user, role })).EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    private HttpClient Http() => new(new SocketsHttpHandler
    {
        // The local cluster's gateway certificate is self-signed.
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    })
    { BaseAddress = options.Gateway, Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>A message sent over REST as another client would, retried with the same id until the cluster takes it.</summary>
    private async Task<long> SendByRestAsync(string user, string role, string to, string text)
    {
        using var http = Http();
        var id = Guid.NewGuid().ToString();
        var deadline = Stopwatch.StartNew();
        string? token = null;
        while (true)
        {
            try
            {
                token ??= await DevTokenAsync(user, role, http);
                using var request = new HttpRequestMessage(HttpMethod.Post, "api/messages") { Content = JsonContent.Create(new { to, body = new { text }, id }) };
                request.Headers.Authorization = new("Bearer", token);
                using var response = await http.SendAsync(request);
                if (response.IsSuccessStatusCode)
                {
                    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("seq").GetInt64();
                }

                Console.WriteLine($"[browser] REST send answered {(int)response.StatusCode}; retrying with the same id");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Console.WriteLine($"[browser] REST send failed ({e.Message}); retrying with the same id");
            }

            if (deadline.Elapsed > RecoveryDeadline)
            {
                throw new TimeoutException($"the cluster did not accept a REST send within {RecoveryDeadline.TotalSeconds} s");
            }

            await Task.Delay(500);
        }
    }
}
