using System.CommandLine;
using Switchboard.Cli.Client;

namespace Switchboard.Cli.Commands;

/// <summary><c>group create|add|remove|show</c> and (1.1) <c>mute|unmute|ban|unban</c>, over REST.</summary>
public static class GroupCommands
{
    public static Command Create(CommonOptions common, CliEnvironment environment)
    {
        var group = new Argument<string>("group") { Description = "The group id." };
        var member = new Argument<string>("user") { Description = "The member." };

        var policy = new Option<string>("--policy") { Description = "Who posts, joins and reads (docs/protocol.md, Groups).", DefaultValueFactory = _ => "open" };
        policy.AcceptOnlyFromAmong("open", "members", "announce");
        var create = new Command("create", "Create a group (you become its owner; needs the role teacher or admin), or change its policy.") { group, policy };
        create.SetAction(common, environment, (parse, invocation, rest, cancellationToken) =>
            rest.PutGroupAsync(parse.GetValue(group)!, parse.GetValue(policy)!, cancellationToken));

        // Not --role: that one names the dev token's global role, on every command.
        var owner = new Option<bool>("--owner") { Description = "Make the member an owner of the group (default: member)." };
        var add = new Command("add", "Add a member, or change a member's role (owners and admins).") { group, member, owner };
        add.SetAction(common, environment, (parse, invocation, rest, cancellationToken) =>
            rest.PutMemberAsync(parse.GetValue(group)!, parse.GetValue(member)!, parse.GetValue(owner) ? "owner" : "member", cancellationToken));

        var remove = new Command("remove", "Remove a member (owners and admins; anyone may remove themselves).") { group, member };
        remove.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var connection = await invocation.ConnectAsync(cancellationToken);
            using var rest = new RestClient(connection.Server, connection.Token, connection.Insecure);
            var (id, user) = (parse.GetValue(group)!, parse.GetValue(member)!);
            await rest.RemoveMemberAsync(id, user, cancellationToken);
            invocation.Printer.Result(new MemberRemoved(id, user), CliJson.Default.MemberRemoved, $"removed {user} from {id}");
            return ExitCodes.Ok;
        });

        var show = new Command("show", "Show a group: its policy, and its members to those who may read it.") { group };
        show.SetAction(common, environment, (parse, invocation, rest, cancellationToken) => rest.GroupAsync(parse.GetValue(group)!, cancellationToken));

        var until = new Option<string?>("--until") { Description = "Muted until this time (ISO 8601, e.g. 2026-12-06T20:00:00Z; without an offset it is UTC)." };
        var lasting = new Option<string?>("--for") { Description = "Muted for this long from now: a number and s, m, h or d (90s, 10m, 2h, 1d)." };
        var mute = new Command("mute", "Refuse a user's posts to the group until --until, for --for, or (neither) until unmuted (owners and admins).") { group, member, until, lasting };
        mute.SetAction(common, environment, async (parse, invocation, rest, cancellationToken) =>
        {
            var (id, user) = (parse.GetValue(group)!, parse.GetValue(member)!);
            var reply = await rest.PutMuteAsync(id, user, MuteEnd(parse.GetValue(until), parse.GetValue(lasting), DateTimeOffset.UtcNow), cancellationToken);
            return (new ModerationResult(id, reply.User, "muted", reply.Until), $"muted {reply.User} in {id} until {reply.Until ?? "unmuted"}");
        });

        var unmute = new Command("unmute", "Lift a user's mute (owners and admins; fine when there is none).") { group, member };
        unmute.SetAction(common, environment, async (parse, invocation, rest, cancellationToken) =>
        {
            var (id, user) = (parse.GetValue(group)!, parse.GetValue(member)!);
            await rest.DeleteMuteAsync(id, user, cancellationToken);
            return (new ModerationResult(id, user, "unmuted"), $"unmuted {user} in {id}");
        });

        var ban = new Command("ban", "Ban a user: no longer a member, and may not join, post, read or receive the group until unbanned (owners and admins).") { group, member };
        ban.SetAction(common, environment, async (parse, invocation, rest, cancellationToken) =>
        {
            var (id, user) = (parse.GetValue(group)!, parse.GetValue(member)!);
            await rest.PutBanAsync(id, user, cancellationToken);
            return (new ModerationResult(id, user, "banned"), $"banned {user} from {id}");
        });

        var unban = new Command("unban", "Lift a user's ban; they are not a member again until they join or are added (owners and admins).") { group, member };
        unban.SetAction(common, environment, async (parse, invocation, rest, cancellationToken) =>
        {
            var (id, user) = (parse.GetValue(group)!, parse.GetValue(member)!);
            await rest.DeleteBanAsync(id, user, cancellationToken);
            return (new ModerationResult(id, user, "unbanned"), $"unbanned {user} in {id}");
        });

        return new Command("group", "Create groups, manage their members, and moderate them.") { create, add, remove, show, mute, unmute, ban, unban };
    }

    /// <summary>
    /// The mute's end as the server reads it, or null (until unmuted). <c>--until</c> goes as typed (the server checks
    /// it and says what is wrong); <c>--for</c> becomes a UTC time from <paramref name="now"/>.
    /// </summary>
    public static string? MuteEnd(string? until, string? lasting, DateTimeOffset now)
    {
        if (until is not null && lasting is not null)
        {
            throw new CliError("bad_request", "Give --until or --for, not both.");
        }

        if (lasting is null)
        {
            return until;
        }

        var unit = lasting.Length > 0 ? lasting[^1] : ' ';
        if (!long.TryParse(lasting.AsSpan(0, Math.Max(0, lasting.Length - 1)), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var amount)
            || amount <= 0 || unit is not ('s' or 'm' or 'h' or 'd'))
        {
            throw new CliError("bad_request", $"--for is a positive number and s, m, h or d (10m, 2h), not '{lasting}'.");
        }

        var length = unit switch
        {
            's' => TimeSpan.FromSeconds(Math.Min(amount, 3_650L * 86400)),
            'm' => TimeSpan.FromMinutes(Math.Min(amount, 3_650L * 1440)),
            'h' => TimeSpan.FromHours(Math.Min(amount, 3_650L * 24)),
            _ => TimeSpan.FromDays(Math.Min(amount, 3_650L)),
        };
        return (now + length).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A moderation command: its result, printed as JSON or as the line given.</summary>
    private static void SetAction(this Command command, CommonOptions common, CliEnvironment environment, Func<ParseResult, Invocation, RestClient, CancellationToken, Task<(ModerationResult Result, string Human)>> call) =>
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var connection = await invocation.ConnectAsync(cancellationToken);
            using var rest = new RestClient(connection.Server, connection.Token, connection.Insecure);
            var (result, human) = await call(parse, invocation, rest, cancellationToken);
            invocation.Printer.Result(result, CliJson.Default.ModerationResult, human);
            return ExitCodes.Ok;
        });

    /// <summary>A command whose result is the group, printed one way for all of them.</summary>
    private static void SetAction(this Command command, CommonOptions common, CliEnvironment environment, Func<ParseResult, Invocation, RestClient, CancellationToken, Task<GroupView>> call) =>
        command.SetAction(common, environment, async (parse, invocation, cancellationToken) =>
        {
            var connection = await invocation.ConnectAsync(cancellationToken);
            using var rest = new RestClient(connection.Server, connection.Token, connection.Insecure);
            var view = await call(parse, invocation, rest, cancellationToken);
            invocation.Printer.Result(view, CliJson.Default.GroupView, Describe(view));
            return ExitCodes.Ok;
        });

    private static string Describe(GroupView view) =>
        (view.Members is null
            ? $"{view.Id} ({view.Policy}); members hidden"
            : $"{view.Id} ({view.Policy})" + string.Concat(view.Members.Select(m => $"{Environment.NewLine}  {m.User} {m.Role}")))
        + string.Concat((view.Mutes ?? []).Select(m => $"{Environment.NewLine}  {Output.Printer.Safe(m.User)} muted until {Output.Printer.Safe(m.Until ?? "unmuted")}"))
        + string.Concat((view.Bans ?? []).Select(b => $"{Environment.NewLine}  {Output.Printer.Safe(b.User)} banned"));
}
