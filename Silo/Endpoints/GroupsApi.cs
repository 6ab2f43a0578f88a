using Microsoft.AspNetCore.Http.HttpResults;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;

namespace Switchboard.Silo.Endpoints;

/// <summary>Groups: create or change policy, members, moderation (mutes and bans), and reading a group.</summary>
public static class GroupsApi
{
    public static IEndpointRouteBuilder MapGroupsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/groups/{id}").RequireAuthorization().WithProblemDetails();
        api.MapPut("/", PutAsync);
        api.MapGet("/", GetAsync);
        api.MapPut("/members/{user}", PutMemberAsync);
        api.MapDelete("/members/{user}", DeleteMemberAsync);
        api.MapPut("/mutes/{user}", PutMuteAsync);
        api.MapDelete("/mutes/{user}", DeleteMuteAsync);
        api.MapPut("/bans/{user}", PutBanAsync);
        api.MapDelete("/bans/{user}", DeleteBanAsync);
        return endpoints;
    }

    private static async Task<Ok<MuteReply>> PutMuteAsync(HttpContext context, string id, string user, IGrainFactory grains)
    {
        var caller = MessagingApi.Caller(context.User);
        var group = ParseGroup(id);
        var muted = ParseUser(user);
        using var document = RequestBody.ParseObject(await RequestBody.ReadAsync(context.Request, context.RequestAborted));
        DateTimeOffset? until = null;
        if (RequestBody.GetString(document.RootElement, "until") is { } text)
        {
            // A time without an offset is UTC: never the silo's local time, which differs between machines.
            if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
            {
                throw SwitchboardException.BadRequest("'until' must be an ISO 8601 time with Z or an offset, e.g. 2026-12-06T12:00:00Z.");
            }

            until = parsed.ToUniversalTime();
            if (until <= DateTimeOffset.UtcNow)
            {
                throw SwitchboardException.BadRequest("'until' must be in the future.");
            }
        }

        await grains.GetGroupGrain(group).MuteAsync(caller, muted, until);
        return TypedResults.Ok(new MuteReply(muted.Value, until is null ? null : MessageFrame.FormatTimestamp(until.Value)));
    }

    private static async Task<NoContent> DeleteMuteAsync(HttpContext context, string id, string user, IGrainFactory grains)
    {
        await grains.GetGroupGrain(ParseGroup(id)).UnmuteAsync(MessagingApi.Caller(context.User), ParseUser(user));
        return TypedResults.NoContent();
    }

    private static async Task<Ok<BanReply>> PutBanAsync(HttpContext context, string id, string user, IGrainFactory grains)
    {
        var caller = MessagingApi.Caller(context.User);
        var group = ParseGroup(id);
        var banned = ParseUser(user);

        // The contract's body is {}: read and checked as an object so a client's mistake is a 400, not ignored silently.
        RequestBody.ParseObject(await RequestBody.ReadAsync(context.Request, context.RequestAborted)).Dispose();
        await grains.GetGroupGrain(group).BanAsync(caller, banned);
        return TypedResults.Ok(new BanReply(banned.Value));
    }

    private static async Task<NoContent> DeleteBanAsync(HttpContext context, string id, string user, IGrainFactory grains)
    {
        await grains.GetGroupGrain(ParseGroup(id)).UnbanAsync(MessagingApi.Caller(context.User), ParseUser(user));
        return TypedResults.NoContent();
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
        // Mutes and bans are the moderators' business: owners and admins only.
        return TypedResults.Ok(ToReply(info, showMembers: caller.IsAdmin || info.MayRead(caller.User), showModeration: caller.IsAdmin || info.IsOwner(caller.User)));
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

    /// <summary>
    /// The reply; <paramref name="showMembers"/> false leaves <c>members</c> out (a caller who may not read the group),
    /// <paramref name="showModeration"/> false leaves <c>mutes</c> and <c>bans</c> out (anyone but owners and admins).
    /// </summary>
    private static GroupReply ToReply(GroupInfo info, bool showMembers = true, bool showModeration = false) => new(
        info.Id.Value,
        info.Policy.ToWire(),
        showMembers ? [.. info.Members.Select(m => new MemberReply(m.User.Value, m.Role.ToWire()))] : null,
        showModeration ? [.. info.Mutes.Select(m => new MuteReply(m.User.Value, m.Until is { } until ? MessageFrame.FormatTimestamp(until) : null))] : null,
        showModeration ? [.. info.Bans.Select(b => new BanReply(b.Value))] : null);

    public sealed record GroupReply(string Id, string Policy, IReadOnlyList<MemberReply>? Members, IReadOnlyList<MuteReply>? Mutes, IReadOnlyList<BanReply>? Bans);

    /// <summary>A mute: <c>until</c> null means until unmuted (written as null, not left out).</summary>
    public sealed record MuteReply(string User, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Until);

    public sealed record BanReply(string User);

    public sealed record MemberReply(string User, string Role);
}
