using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cli;

/// <summary>
/// tools/Cli's commands, run in-process against the real silo host and through the real gateway (real TLS), as a user
/// would type them: what they print, and the exit code a script branches on.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(CliCollection.Name)]
public sealed class CliCommandTests(CliFixture fixture)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Token_prints_a_token_the_other_commands_take_from_the_environment_and_none_of_them_prints_it(bool viaGateway)
    {
        var alice = CliFixture.NewId("cli-tok");
        var token = await Cli(viaGateway, "token", alice, "--role", "teacher");
        Assert.Equal(0, token.ExitCode);
        var printed = Assert.Single(token.Lines);
        Assert.Equal(3, printed.Split('.').Length);

        var asJson = await Cli(viaGateway, "token", alice, "--json");
        Assert.Equal(0, asJson.ExitCode);
        Assert.Equal(3, JsonDocument.Parse(Assert.Single(asJson.Lines)).RootElement.GetProperty("token").GetString()!.Split('.').Length);

        // SWITCHBOARD_TOKEN, as on a cluster without dev tokens: the commands act as alice (a teacher may create groups).
        var environment = new Dictionary<string, string> { ["SWITCHBOARD_TOKEN"] = printed };
        var group = CliFixture.NewId("cli-tokg");
        var runs = new[]
        {
            await CliRunner.RunAsync(environment, [.. fixture.Server(viaGateway), "group", "create", group]),
            await CliRunner.RunAsync(environment, [.. fixture.Server(viaGateway), "send", $"group:{group}", "hello"]),
            await CliRunner.RunAsync(environment, [.. fixture.Server(viaGateway), "conversations", "--json"]),
            await CliRunner.RunAsync(environment, [.. fixture.Server(viaGateway), "presence", alice]),
            await CliRunner.RunAsync(environment, [.. fixture.Server(viaGateway), "history", $"group:{group}", "--json"]),
            await CliRunner.RunAsync(environment, [.. fixture.Server(viaGateway), "--token", "not-a-token", "presence", alice]),
        };

        Assert.All(runs[..5], run => Assert.True(run.ExitCode == 0, run.ToString()));
        Assert.Contains($"#1", runs[1].Output);
        Assert.Equal(3, runs[5].ExitCode);
        Assert.All(runs, run => Assert.DoesNotContain(printed, run.Output + run.Error));
        Assert.DoesNotContain(printed.Split('.')[2], string.Concat(runs.Select(r => r.Output + r.Error)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Send_to_a_user_prints_the_ack_and_the_recipients_tail_prints_the_message(bool viaGateway)
    {
        var (alice, bob) = (CliFixture.NewId("cli-a"), CliFixture.NewId("cli-b"));
        await using var tail = CliRunner.Start([.. fixture.Server(viaGateway), "--user", bob, "tail", "--count", "1", "--json"]);
        await tail.ConnectedAsync();

        var sent = await Cli(viaGateway, "--user", alice, "send", $"user:{bob}", "hi bob");
        var conversation = $"dm:{Min(alice, bob)}:{Max(alice, bob)}";
        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.StartsWith($"sent to user:{bob}: {conversation} #1 (id ", sent.Output);

        var tailed = await tail.EndAsync();
        Assert.Equal(0, tailed.ExitCode);
        var message = JsonDocument.Parse(Assert.Single(tailed.Lines)).RootElement;
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal(conversation, message.GetProperty("conversation").GetString());
        Assert.Equal(1, message.GetProperty("seq").GetInt64());
        Assert.Equal(alice, message.GetProperty("from").GetString());
        Assert.Equal("hi bob", message.GetProperty("body").GetProperty("text").GetString());

        // --json prints the ack frame itself; a raw --body goes out as written.
        var again = await Cli(viaGateway, "--user", alice, "send", $"user:{bob}", "--body", "[1,2]", "--json");
        var ack = JsonDocument.Parse(Assert.Single(again.Lines)).RootElement;
        Assert.Equal(("ack", conversation, 2), (ack.GetProperty("type").GetString(), ack.GetProperty("conversation").GetString(), ack.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task Send_to_a_group_reaches_a_members_tail_and_group_commands_manage_the_members()
    {
        var (teacher, student, outsider) = (CliFixture.NewId("cli-t"), CliFixture.NewId("cli-s"), CliFixture.NewId("cli-o"));
        var group = CliFixture.NewId("cli-g");

        var created = await Cli(false, "--user", teacher, "--role", "teacher", "group", "create", group, "--policy", "members");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal($"{group} (members)\n  {teacher} owner\n", created.Output);

        var added = await Cli(false, "--user", teacher, "--role", "teacher", "group", "add", group, student, "--json");
        var view = JsonDocument.Parse(Assert.Single(added.Lines)).RootElement;
        Assert.Equal(
            new[] { (teacher, "owner"), (student, "member") }.OrderBy(m => m.Item1, StringComparer.Ordinal),
            view.GetProperty("members").EnumerateArray().Select(m => (m.GetProperty("user").GetString()!, m.GetProperty("role").GetString()!)));

        await using var tail = CliRunner.Start([.. fixture.Server(true), "--user", student, "tail", "--count", "1"]);
        await tail.ConnectedAsync();
        var sent = await Cli(true, "--user", teacher, "--role", "teacher", "send", $"group:{group}", "class starts");
        Assert.StartsWith($"sent to group:{group}: group:{group} #1", sent.Output);
        var tailed = await tail.EndAsync();
        Assert.Matches($@"^\S+Z group:{group} #1 {teacher}: class starts\n$", tailed.Output);

        // Members only: the outsider sees no members, and may not post.
        Assert.Equal($"{group} (members); members hidden\n", (await Cli(false, "--user", outsider, "group", "show", group)).Output);
        var refused = await Cli(false, "--user", outsider, "send", $"group:{group}", "let me in");
        Assert.Equal(4, refused.ExitCode);
        Assert.StartsWith("error: forbidden: ", refused.Error);

        var removed = await Cli(false, "--user", teacher, "--role", "teacher", "group", "remove", group, student);
        Assert.Equal($"removed {student} from {group}\n", removed.Output);
        var shown = await Cli(false, "--user", teacher, "--role", "teacher", "group", "show", group, "--json");
        Assert.Equal(teacher, Assert.Single(JsonDocument.Parse(Assert.Single(shown.Lines)).RootElement.GetProperty("members").EnumerateArray()).GetProperty("user").GetString());
    }

    [Fact]
    public async Task History_pages_through_a_conversation_oldest_first_and_conversations_list_the_latest_seqs()
    {
        var (alice, bob) = (CliFixture.NewId("cli-ha"), CliFixture.NewId("cli-hb"));
        var token = await fixture.Api.TokenAsync(alice);
        for (var i = 1; i <= 7; i++)
        {
            Assert.Equal(200, (await fixture.Api.PostAsync("/api/messages", token, new { to = $"user:{bob}", body = new { text = $"m{i}" } })).Status);
        }

        var conversation = $"dm:{Min(alice, bob)}:{Max(alice, bob)}";
        var all = await Cli(true, "--user", bob, "history", conversation, "--page-size", "3", "--json");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Equal(Enumerable.Range(1, 7), all.Lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seq").GetInt32()));

        var some = await Cli(false, "--user", bob, "history", conversation, "--after", "2", "--limit", "3", "--page-size", "2");
        Assert.Equal(["m3", "m4", "m5"], some.Lines.Select(l => l[(l.LastIndexOf(' ') + 1)..]).ToArray());

        var listed = await Cli(false, "--user", bob, "conversations");
        Assert.Equal($"{conversation} #7 read 0 unread 7\n", listed.Output);
        var stranger = await Cli(false, "--user", CliFixture.NewId("cli-hc"), "history", conversation);
        Assert.Equal((4, true), (stranger.ExitCode, stranger.Error.StartsWith("error: forbidden: ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Presence_is_online_while_a_tail_runs_and_Ctrl_C_ends_the_tail_cleanly()
    {
        var (carol, dave) = (CliFixture.NewId("cli-pc"), CliFixture.NewId("cli-pd"));
        Assert.Equal($"{carol} offline\n", (await Cli(false, "--user", dave, "presence", carol)).Output);

        var tail = CliRunner.Start([.. fixture.Server(true), "--user", carol, "tail"]);
        await using (tail)
        {
            await tail.ConnectedAsync();
            var online = await Cli(false, "--user", dave, "presence", carol, "--json");
            var presence = JsonDocument.Parse(Assert.Single(online.Lines)).RootElement;
            Assert.Equal((true, 1), (presence.GetProperty("online").GetBoolean(), presence.GetProperty("connections").GetInt32()));

            var interrupted = await tail.InterruptAsync();
            Assert.Equal(0, interrupted.ExitCode);
            Assert.DoesNotContain("error", interrupted.Error, StringComparison.OrdinalIgnoreCase);
        }

        await Wait.UntilAsync(async () => (await Cli(false, "--user", dave, "presence", carol)).Output == $"{carol} offline\n", "carol is offline after the tail ended");
    }

    [Fact]
    public async Task Errors_exit_with_the_code_of_their_protocol_error()
    {
        var (student, group) = (CliFixture.NewId("cli-e"), CliFixture.NewId("cli-eg"));

        var forbidden = await Cli(false, "--user", student, "group", "create", group);
        Assert.Equal((4, $"error: forbidden: "), (forbidden.ExitCode, forbidden.Error[..18]));

        var unknown = await Cli(true, "--user", student, "group", "show", group, "--json");
        Assert.Equal(5, unknown.ExitCode);
        var line = JsonDocument.Parse(Assert.Single(unknown.Lines)).RootElement;
        Assert.Equal(("error", "not_found"), (line.GetProperty("type").GetString(), line.GetProperty("code").GetString()));

        var toUnknownGroup = await Cli(true, "--user", student, "send", $"group:{group}", "anyone?");
        Assert.Equal(5, toUnknownGroup.ExitCode);
        Assert.Contains("error: not_found: ", toUnknownGroup.Error);

        var toSelf = await Cli(false, "--user", student, "send", $"user:{student}", "me");
        Assert.Equal(2, toSelf.ExitCode);

        var noToken = await Cli(false, "presence", student);
        Assert.Equal(3, noToken.ExitCode);
        Assert.Contains("SWITCHBOARD_TOKEN", noToken.Error);

        var nobodyThere = await CliRunner.RunAsync("--server", "http://127.0.0.1:1", "--user", student, "presence", student);
        Assert.Equal(9, nobodyThere.ExitCode);
    }

    [Fact]
    public async Task The_gateways_self_signed_certificate_is_refused_unless_insecure_is_given()
    {
        var user = CliFixture.NewId("cli-tls");
        var strict = await CliRunner.RunAsync("--server", fixture.GatewayUrl, "token", user);
        Assert.Equal(9, strict.ExitCode);
        Assert.Contains("SSL", strict.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(strict.Output);

        var strictSocket = await CliRunner.RunAsync("--server", fixture.GatewayUrl.Replace("https", "wss"), "--token", Infrastructure.TestTokens.Mint(user), "send", "user:someone", "x");
        Assert.Equal(9, strictSocket.ExitCode);

        var insecure = await CliRunner.RunAsync("--server", fixture.GatewayUrl, "--insecure", "token", user);
        Assert.Equal(0, insecure.ExitCode);
        Assert.Contains("--insecure", insecure.Error);
    }

    [Fact]
    public async Task A_tail_that_an_administrator_disconnects_exits_with_10_and_does_not_reconnect()
    {
        var erin = CliFixture.NewId("cli-dis");
        var tail = CliRunner.Start([.. fixture.Server(true), "--user", erin, "tail", "--backoff-initial", "0.05", "--backoff-cap", "0.1"]);
        await using (tail)
        {
            await tail.ConnectedAsync();
            var admin = await fixture.Api.TokenAsync(CliFixture.NewId("cli-admin"), "admin");
            Assert.Equal(200, (await fixture.Api.DeleteAsync($"/api/users/{erin}/connections", admin)).Status);

            var ended = await tail.EndAsync();
            Assert.Equal(10, ended.ExitCode);
            Assert.Contains("error: disconnected: ", ended.Error);
            Assert.DoesNotContain("reconnecting", ended.Error);
        }
    }

    [Fact]
    public async Task A_tail_with_a_dev_token_renews_it_over_the_socket_with_auth_and_keeps_printing()
    {
        var (frank, grace) = (CliFixture.NewId("cli-rf"), CliFixture.NewId("cli-rg"));

        // Dev tokens live 12 h: renewing 12 h minus 2 s ahead means about every 2 s (never more often than every second).
        var tail = CliRunner.Start([.. fixture.Server(true), "--user", frank, "tail", "--count", "1", "--refresh-ahead", $"{(12 * 3600) - 2}"]);
        await using (tail)
        {
            await tail.ConnectedAsync();
            await Wait.UntilAsync(() => tail.Error.Text.Split("token refreshed").Length > 2, $"two refreshes acked; stderr: {tail.Error.Text}", TimeSpan.FromSeconds(20));
            Assert.True((await Cli(false, "--user", grace, "send", $"user:{frank}", "still there?")).ExitCode == 0);

            var run = await tail.EndAsync();
            Assert.Equal(0, run.ExitCode);
            Assert.EndsWith($"{grace}: still there?\n", run.Output);
            Assert.DoesNotContain("refused", run.Error);
            Assert.Equal(1, run.Error.Split("connected to ").Length - 1);
        }
    }

    private Task<CliRun> Cli(bool viaGateway, params string[] args) => CliRunner.RunAsync([.. fixture.Server(viaGateway), .. args]);

    private static string Min(string a, string b) => string.CompareOrdinal(a, b) < 0 ? a : b;

    private static string Max(string a, string b) => string.CompareOrdinal(a, b) < 0 ? b : a;
}
