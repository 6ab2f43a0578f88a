using System.CommandLine;
using Switchboard.Cli.Client;

namespace Switchboard.Cli.Commands;

/// <summary><c>group create|add|remove|show</c>, over REST.</summary>
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

        return new Command("group", "Create groups and manage their members.") { create, add, remove, show };
    }

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
        view.Members is null
            ? $"{view.Id} ({view.Policy}); members hidden"
            : $"{view.Id} ({view.Policy})" + string.Concat(view.Members.Select(m => $"{Environment.NewLine}  {m.User} {m.Role}"));
}
