using Microsoft.AspNetCore.Http.HttpResults;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Silo.Endpoints;

/// <summary>Groups: create or change policy, members, and reading a group.</summary>
public static class GroupsApi
{
    public static IEndpointRouteBuilder MapGroupsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/groups/{id}").RequireAuthorization().WithProblemDetails();
        api.MapPut("/", PutAsync);
        api.MapGet("/", GetAsync);
        api.MapPut("/members/{user}", PutMemberAsync);
        api.MapDelete("/members/{user}", DeleteMemberAsync);
        return endpoints;
    }

    private static async Task<IResult> PutAsync(HttpContext context, string id, IGrainFactory grains)
    {
        var caller = MessagingApi.Caller(context.User);
        var group = ParseGroup(id);
        using var document = RequestBody.ParseObject(await RequestBody.ReadAsync(context.Request, context.RequestAborted));
        if (!GroupNames.TryParsePolicy(RequestBody.GetString(document.RootElement, "policy"), out var policy))
        {
            throw SwitchboardException.BadRequest("'policy' must be open, members or announce.");
        }

        var grain = grains.GetGroupGrain(group);
        var created = await grain.PutAsync(caller, policy);
        var reply = ToReply(await grain.GetAsync());
        return created ? TypedResults.Created($"/api/groups/{group.Value}", reply) : TypedResults.Ok(reply);
    }

    private static async Task<Ok<GroupReply>> GetAsync(HttpContext context, string id, IGrainFactory grains)
    {
        var caller = MessagingApi.Caller(context.User);
        var info = await grains.GetGroupGrain(ParseGroup(id)).GetAsync();

        // The roster is the group's to show: to those who may read it, and to admins, who manage every group's members.
        return TypedResults.Ok(ToReply(info, showMembers: caller.IsAdmin || info.MayRead(caller.User)));
    }

    private static async Task<IResult> PutMemberAsync(HttpContext context, string id, string user, IGrainFactory grains)
    {
        var caller = MessagingApi.Caller(context.User);
        var group = ParseGroup(id);
        var member = ParseUser(user);
        using var document = RequestBody.ParseObject(await RequestBody.ReadAsync(context.Request, context.RequestAborted));
        var roleName = RequestBody.GetString(document.RootElement, "role") ?? "member";
        if (!GroupNames.TryParseRole(roleName, out var role))
        {
            throw SwitchboardException.BadRequest("'role' must be member or owner.");
        }

        var grain = grains.GetGroupGrain(group);
        await grain.SetMemberAsync(caller, member, role);

        // The roster in every reply makes enrolling a class of n cost n² (10,000 members: some 400 KB a reply); RFC 7240 lets a client decline it.
        if (PrefersMinimalReturn(context.Request))
        {
            context.Response.Headers["Preference-Applied"] = "return=minimal";
            return TypedResults.Ok(new MemberReply(member.Value, role.ToWire()));
        }

        return TypedResults.Ok(ToReply(await grain.GetAsync()));
    }

    private static async Task<NoContent> DeleteMemberAsync(HttpContext context, string id, string user, IGrainFactory grains)
    {
        var caller = MessagingApi.Caller(context.User);
        await grains.GetGroupGrain(ParseGroup(id)).RemoveMemberAsync(caller, ParseUser(user));
        return TypedResults.NoContent();
    }

    private static bool PrefersMinimalReturn(HttpRequest request) =>
        request.Headers["Prefer"].Any(value => value is not null && value.Split(',', ';').Any(p => p.Trim().Equals("return=minimal", StringComparison.OrdinalIgnoreCase)));

    private static GroupId ParseGroup(string id) =>
        GroupId.TryParse(id, out var group) ? group : throw SwitchboardException.BadRequest($"'{id}' is not a group id.");

    internal static UserId ParseUser(string id) =>
        UserId.TryParse(id, out var user) ? user : throw SwitchboardException.BadRequest($"'{id}' is not a user id.");

    /// <summary>The reply; <paramref name="showMembers"/> false leaves <c>members</c> out (a caller who may not read the group).</summary>
    private static GroupReply ToReply(GroupInfo info, bool showMembers = true) => new(
        info.Id.Value,
        info.Policy.ToWire(),
        showMembers ? [.. info.Members.Select(m => new MemberReply(m.User.Value, m.Role.ToWire()))] : null);

    public sealed record GroupReply(string Id, string Policy, IReadOnlyList<MemberReply>? Members);

    public sealed record MemberReply(string User, string Role);
}
