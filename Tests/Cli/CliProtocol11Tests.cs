using System.Text.Json;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cli;

/// <summary>
/// The CLI's protocol 1.1 commands (read markers, receipts, typing, deletion, mutes and bans) and what a tail shows
/// of them, against the real silo host and through the real gateway: output, server state afterwards, exit codes.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(CliCollection.Name)]
public sealed class CliProtocol11Tests(CliFixture fixture)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Read_moves_the_marker_forward_only_and_conversations_show_read_and_unread(bool viaGateway)
    {
        var (alice, bob) = (CliFixture.NewId("cli-rda"), CliFixture.NewId("cli-rdb"));
        var conversation = await SendAsync(alice, bob, 3);

        Assert.Equal($"{conversation} #3 read 0 unread 3\n", (await Cli(viaGateway, "--user", bob, "conversations")).Output);

        var two = await Cli(viaGateway, "--user", bob, "read", conversation, "2");
        Assert.True(two.ExitCode == 0, two.ToString());
        Assert.Equal($"{conversation}: read up to #2\n", two.Output);

        // Backwards changes nothing: the ack says the stored marker.
        Assert.Equal($"{conversation}: read up to #2\n", (await Cli(viaGateway, "--user", bob, "read", conversation, "1")).Output);

        // No SEQ: the conversation's latest, from the list; --json prints the ack itself.
        var latest = await Cli(viaGateway, "--user", bob, "read", conversation, "--json");
        var ack = JsonDocument.Parse(Assert.Single(latest.Lines)).RootElement;
        Assert.Equal(("ack", conversation, 3), (ack.GetProperty("type").GetString(), ack.GetProperty("conversation").GetString(), ack.GetProperty("read").GetInt64()));

        var listed = JsonDocument.Parse(Assert.Single((await Cli(viaGateway, "--user", bob, "conversations", "--json")).Lines)).RootElement;
        Assert.Equal((3, 3, 0), (listed.GetProperty("seq").GetInt64(), listed.GetProperty("read").GetInt64(), listed.GetProperty("unread").GetInt64()));

        // The sender's own messages are read: alice has nothing unread.
        Assert.Equal($"{conversation} #3 read 3 unread 0\n", (await Cli(viaGateway, "--user", alice, "conversations")).Output);
    }

    [Fact]
    public async Task Read_errors_exit_with_their_codes()
    {
        var (alice, bob, eve) = (CliFixture.NewId("cli-rea"), CliFixture.NewId("cli-reb"), CliFixture.NewId("cli-ree"));
        var conversation = await SendAsync(alice, bob, 2);

        var pastLatest = await Cli(false, "--user", bob, "read", conversation, "3");
        Assert.Equal((2, true), (pastLatest.ExitCode, pastLatest.Error.StartsWith("error: bad_request: ", StringComparison.Ordinal)));

        var stranger = await Cli(true, "--user", eve, "read", conversation, "1");
        Assert.Equal((4, true), (stranger.ExitCode, stranger.Error.Contains("error: forbidden: ", StringComparison.Ordinal)));

        var noGroup = await Cli(false, "--user", eve, "read", $"group:{CliFixture.NewId("cli-reg")}", "1", "--json");
        Assert.Equal(5, noGroup.ExitCode);
        Assert.Equal("not_found", JsonDocument.Parse(Assert.Single(noGroup.Lines)).RootElement.GetProperty("code").GetString());

        // Without SEQ, a conversation that is not in the user's list has no "latest" to read up to.
        var notListed = await Cli(false, "--user", eve, "read", conversation);
        Assert.Equal(5, notListed.ExitCode);
        Assert.Contains("give the SEQ", notListed.Error);

        // Nothing moved for bob.
        Assert.Equal($"{conversation} #2 read 0 unread 2\n", (await Cli(false, "--user", bob, "conversations")).Output);
    }

    [Fact]
    public async Task Receipts_after_two_readers_name_who_read_and_who_did_not()
    {
        var teacher = CliFixture.NewId("cli-rct");
        var students = new[] { CliFixture.NewId("cli-rcs"), CliFixture.NewId("cli-rcs"), CliFixture.NewId("cli-rcs") };
        var group = CliFixture.NewId("cli-rcg");
        Assert.Equal(0, (await Teacher(teacher, "group", "create", group, "--policy", "members")).ExitCode);
        foreach (var student in students)
        {
            Assert.Equal(0, (await Teacher(teacher, "group", "add", group, student)).ExitCode);
        }

        Assert.Equal(0, (await Teacher(teacher, "send", $"group:{group}", "homework")).ExitCode);
        Assert.Equal(0, (await Cli(false, "--user", students[0], "read", $"group:{group}")).ExitCode);
        Assert.Equal(0, (await Cli(true, "--user", students[1], "read", $"group:{group}", "1")).ExitCode);

        // The sender has read its own message: three of four.
        var readers = new[] { teacher, students[0], students[1] }.Order(StringComparer.Ordinal).ToArray();
        var human = await Cli(true, "--user", teacher, "--role", "teacher", "receipts", $"group:{group}", "1");
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Equal($"group:{group} #1: read by 3 of 4\n  read: {string.Join(", ", readers)}\n  unread: {students[2]}\n", human.Output);

        var json = JsonDocument.Parse(Assert.Single((await Cli(false, "--user", teacher, "--role", "teacher", "receipts", $"group:{group}", "1", "--json")).Lines)).RootElement;
        Assert.Equal((4, 3, false), (json.GetProperty("members").GetInt32(), json.GetProperty("readBy").GetInt32(), json.GetProperty("truncated").GetBoolean()));
        Assert.Equal(readers, json.GetProperty("read").EnumerateArray().Select(n => n.GetString()));

        // A member who is not the sender learns nothing; a message that does not exist is a bad request.
        var member = await Cli(false, "--user", students[2], "receipts", $"group:{group}", "1");
        Assert.Equal((4, true), (member.ExitCode, member.Error.StartsWith("error: forbidden: ", StringComparison.Ordinal)));
        Assert.Equal(2, (await Cli(false, "--user", teacher, "--role", "teacher", "receipts", $"group:{group}", "5")).ExitCode);
    }

    [Fact]
    public async Task A_tail_shows_the_other_users_typing_and_read_and_a_deletion_and_history_prints_the_message_as_deleted()
    {
        var (alice, bob) = (CliFixture.NewId("cli-tya"), CliFixture.NewId("cli-tyb"));
        var conversation = await SendAsync(alice, bob, 1);
        await using var human = CliRunner.Start([.. fixture.Server(true), "--user", alice, "tail"]);
        await using var json = CliRunner.Start([.. fixture.Server(false), "--user", alice, "tail", "--json"]);
        await human.ConnectedAsync();
        await json.ConnectedAsync();

        var typed = await Cli(true, "--user", bob, "typing", conversation);
        Assert.True(typed.ExitCode == 0, typed.ToString());
        Assert.Equal($"typing in {conversation}\n", typed.Output);
        await Wait.UntilAsync(() => human.Output.Text.Contains($"{conversation}: {bob} is typing\n"), $"alice's tail shows bob typing; stdout: {human.Output.Text}");

        Assert.Equal(0, (await Cli(false, "--user", bob, "read", conversation, "1")).ExitCode);
        await Wait.UntilAsync(() => human.Output.Text.Contains($"{conversation}: {bob} read up to #1\n"), $"alice's tail shows bob's read; stdout: {human.Output.Text}");

        var deleted = await Cli(true, "--user", alice, "delete", conversation, "1");
        Assert.Equal($"deleted {conversation} #1\n", deleted.Output);
        await Wait.UntilAsync(() => human.Output.Text.Contains($"{conversation} #1 deleted by {alice}\n"), $"alice's tail shows the deletion; stdout: {human.Output.Text}");

        // --json: each frame as received, one per line.
        await Wait.UntilAsync(() => json.Lines.Length >= 3, $"the json tail printed three frames; stdout: {json.Output.Text}");
        var frames = json.Lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["typing", "read", "deleted"], frames.Select(f => f.GetProperty("type").GetString()));
        Assert.Equal((bob, conversation), (frames[0].GetProperty("user").GetString(), frames[0].GetProperty("conversation").GetString()));
        Assert.Equal((1, alice), (frames[2].GetProperty("seq").GetInt64(), frames[2].GetProperty("by").GetString()));

        var history = await Cli(false, "--user", bob, "history", conversation);
        Assert.Matches($@"^\S+Z {conversation} #1 {alice}: \(deleted\)\n$", history.Output);
        var stored = JsonDocument.Parse(Assert.Single((await Cli(true, "--user", bob, "history", conversation, "--json")).Lines)).RootElement;
        Assert.Equal((JsonValueKind.Null, true), (stored.GetProperty("body").ValueKind, stored.GetProperty("deleted").GetBoolean()));

        // Only the sender deletes in a direct conversation; a seq never sent is not found.
        Assert.Equal(4, (await Cli(false, "--user", bob, "delete", conversation, "1")).ExitCode);
        var never = await Cli(false, "--user", alice, "delete", conversation, "7");
        Assert.Equal((5, true), (never.ExitCode, never.Error.StartsWith("error: not_found: ", StringComparison.Ordinal)));
        Assert.Equal(0, (await human.InterruptAsync()).ExitCode);
    }

    [Fact]
    public async Task Tail_with_read_marks_what_it_printed_so_the_list_shows_nothing_unread_and_the_sender_sees_the_receipt()
    {
        var (alice, bob) = (CliFixture.NewId("cli-tra"), CliFixture.NewId("cli-trb"));
        await using var sender = CliRunner.Start([.. fixture.Server(false), "--user", alice, "tail"]);
        await using var reader = CliRunner.Start([.. fixture.Server(true), "--user", bob, "tail", "--read", "--count", "3"]);
        await sender.ConnectedAsync();
        await reader.ConnectedAsync();

        var conversation = await SendAsync(alice, bob, 3);
        var run = await reader.EndAsync();
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(3, run.Lines.Length);

        // The tail exits after its reads are acked: the list says so at once.
        Assert.Equal($"{conversation} #3 read 3 unread 0\n", (await Cli(false, "--user", bob, "conversations")).Output);
        await Wait.UntilAsync(() => sender.Output.Text.Contains($"{conversation}: {bob} read up to #3\n"), $"alice's tail shows bob's receipt; stdout: {sender.Output.Text}");

        // Without --read a tail leaves the marker where it was.
        await using var plain = CliRunner.Start([.. fixture.Server(false), "--user", bob, "tail", "--count", "1"]);
        await plain.ConnectedAsync();
        await SendAsync(alice, bob, 1);
        Assert.Equal(0, (await plain.EndAsync()).ExitCode);
        Assert.Equal($"{conversation} #4 read 3 unread 1\n", (await Cli(false, "--user", bob, "conversations")).Output);
    }

    [Fact]
    public async Task Group_mute_unmute_ban_unban_change_who_may_post_and_group_show_lists_them_to_owners()
    {
        var (teacher, student, other) = (CliFixture.NewId("cli-mt"), CliFixture.NewId("cli-ms"), CliFixture.NewId("cli-mo"));
        var group = CliFixture.NewId("cli-mg");
        Assert.Equal(0, (await Teacher(teacher, "group", "create", group)).ExitCode);
        Assert.Equal(0, (await Teacher(teacher, "group", "add", group, student)).ExitCode);

        var muted = await Teacher(teacher, "group", "mute", group, student, "--for", "10m");
        Assert.True(muted.ExitCode == 0, muted.ToString());
        var until = Assert.Single(System.Text.RegularExpressions.Regex.Match(muted.Output, $@"^muted {student} in {group} until (\S+Z)\n$").Groups.Values.Skip(1)).Value;
        Assert.InRange(DateTimeOffset.Parse(until, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(9), DateTimeOffset.UtcNow.AddMinutes(11));
        var refused = await Cli(true, "--user", student, "send", $"group:{group}", "hello?");
        Assert.Equal(4, refused.ExitCode);
        Assert.Contains("muted", refused.Error);

        var forever = JsonDocument.Parse(Assert.Single((await Teacher(teacher, "group", "mute", group, other, "--json")).Lines)).RootElement;
        Assert.Equal((other, "muted", JsonValueKind.Null), (forever.GetProperty("user").GetString(), forever.GetProperty("action").GetString(), forever.GetProperty("until").ValueKind));
        var shown = await Teacher(teacher, "group", "show", group);
        Assert.Contains($"\n  {student} muted until {until}", shown.Output);
        Assert.Contains($"\n  {other} muted until unmuted", shown.Output);

        // Members do not see the moderation.
        Assert.DoesNotContain("muted", (await Cli(false, "--user", student, "group", "show", group)).Output);

        Assert.Equal($"unmuted {student} in {group}\n", (await Teacher(teacher, "group", "unmute", group, student)).Output);
        Assert.Equal(0, (await Cli(false, "--user", student, "send", $"group:{group}", "thanks")).ExitCode);

        // A student may not ban; the owner may, and the banned student loses membership and history.
        var studentBans = await Cli(false, "--user", other, "group", "ban", group, student);
        Assert.Equal((4, true), (studentBans.ExitCode, studentBans.Error.StartsWith("error: forbidden: ", StringComparison.Ordinal)));
        Assert.Equal($"banned {student} from {group}\n", (await Teacher(teacher, "group", "ban", group, student)).Output);
        var view = JsonDocument.Parse(Assert.Single((await Teacher(teacher, "group", "show", group, "--json")).Lines)).RootElement;
        Assert.Equal([student], view.GetProperty("bans").EnumerateArray().Select(b => b.GetProperty("user").GetString()));
        Assert.DoesNotContain(student, view.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("user").GetString()));
        Assert.Equal(4, (await Cli(true, "--user", student, "history", $"group:{group}")).ExitCode);

        Assert.Equal($"unbanned {student} in {group}\n", (await Teacher(teacher, "group", "unban", group, student)).Output);
        Assert.Equal(0, (await Cli(false, "--user", student, "history", $"group:{group}")).ExitCode);
    }

    [Fact]
    public async Task Group_moderation_errors_exit_with_their_codes()
    {
        var (teacher, student) = (CliFixture.NewId("cli-met"), CliFixture.NewId("cli-mes"));
        var group = CliFixture.NewId("cli-meg");
        Assert.Equal(0, (await Teacher(teacher, "group", "create", group)).ExitCode);

        Assert.Equal(2, (await Teacher(teacher, "group", "mute", group, student, "--until", "2001-01-01T00:00:00Z")).ExitCode);
        Assert.Equal(2, (await Teacher(teacher, "group", "mute", group, student, "--until", "tomorrow")).ExitCode);
        Assert.Equal(2, (await Teacher(teacher, "group", "mute", group, student, "--for", "10x")).ExitCode);
        Assert.Equal(2, (await Teacher(teacher, "group", "mute", group, student, "--for", "1h", "--until", "2099-01-01T00:00:00Z")).ExitCode);
        Assert.Equal(5, (await Teacher(teacher, "group", "ban", CliFixture.NewId("cli-men"), student)).ExitCode);
        Assert.Equal(4, (await Cli(false, "--user", student, "group", "mute", group, teacher)).ExitCode);
        Assert.DoesNotContain("muted", (await Teacher(teacher, "group", "show", group)).Output);
    }

    /// <summary>Sends <paramref name="count"/> messages from one user to another over REST; returns their conversation.</summary>
    private async Task<string> SendAsync(string from, string to, int count)
    {
        var token = await fixture.Api.TokenAsync(from);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(200, (await fixture.Api.PostAsync("/api/messages", token, new { to = $"user:{to}", body = new { text = $"m{i}" } })).Status);
        }

        return string.CompareOrdinal(from, to) < 0 ? $"dm:{from}:{to}" : $"dm:{to}:{from}";
    }

    private Task<CliRun> Teacher(string teacher, params string[] args) => Cli(false, ["--user", teacher, "--role", "teacher", .. args]);

    private Task<CliRun> Cli(bool viaGateway, params string[] args) => CliRunner.RunAsync([.. fixture.Server(viaGateway), .. args]);
}
