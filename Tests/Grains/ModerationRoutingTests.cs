using System.Text;
using Switchboard.Conversations;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>Moderation across two silos: a ban empties every silo's member set before it returns; a deletion reaches both.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class ModerationRoutingTests(ClusterFixture fixture)
{
    private static string NewId(string prefix) => SiloHostFixture.NewId(prefix);

    private Task<SendReceipt> SendAsync(Caller from, GroupId group, string text) =>
        fixture.Grains.GetUserGrain(from.User).SendAsync(new SendCommand(
            from, Guid.NewGuid().ToString(), Recipient.ForGroup(group), Encoding.UTF8.GetBytes($"\"{text}\""), Origin: null));

    [Fact]
    public async Task A_ban_drops_the_user_from_the_member_sets_of_both_silos_before_it_returns()
    {
        var owner = new Caller(new UserId(NewId("teacher")), Caller.TeacherRole);
        var user = new UserId(NewId("student"));
        var group = new GroupId(NewId("class"));
        var grain = fixture.Grains.GetGroupGrain(group);
        await grain.PutAsync(owner, GroupPolicy.Open);
        var phone = await fixture.ConnectAsync(user.Value, silo: 0);
        var laptop = await fixture.ConnectAsync(user.Value, silo: 1);
        var witness = await fixture.ConnectAsync(NewId("witness"), silo: 1);
        await grain.JoinAsync(new Caller(user, "student"));
        await grain.JoinAsync(new Caller(witness.User, "student"));
        Assert.Contains(user, fixture.Registry(0).GetGroupMembers(group));
        Assert.Contains(user, fixture.Registry(1).GetGroupMembers(group));

        await grain.BanAsync(owner, user);

        // No waiting: the ban returned only after both silos had dropped the user.
        Assert.DoesNotContain(user, fixture.Registry(0).GetGroupMembers(group));
        Assert.DoesNotContain(user, fixture.Registry(1).GetGroupMembers(group));
        var after = await SendAsync(owner, group, "after the ban");
        await witness.WaitForMessageAsync(after.Conversation.Value, after.Seq);
        Assert.Empty(phone.Messages(after.Conversation.Value));
        Assert.Empty(laptop.Messages(after.Conversation.Value));
        var refused = await Assert.ThrowsAsync<SwitchboardException>(() => grain.JoinAsync(new Caller(user, "student")));
        Assert.Equal(ProtocolError.Forbidden, refused.Code);
    }

    [Fact]
    public async Task A_ban_reaches_a_silo_the_users_grain_lost_track_of_through_the_groups_own_subscribers()
    {
        var owner = new Caller(new UserId(NewId("teacher")), Caller.TeacherRole);
        var user = new UserId(NewId("student"));
        var group = new GroupId(NewId("class"));
        await fixture.Grains.GetGroupGrain(group).PutAsync(owner, GroupPolicy.Open);
        await fixture.ConnectAsync(user.Value, silo: 1);
        await fixture.Grains.GetGroupGrain(group).JoinAsync(new Caller(user, "student"));

        // A new activation of the user grain knows no silo until the next renewal; the group's subscribers are stored.
        await fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Contains(user, fixture.Registry(1).GetGroupMembers(group));
        await fixture.Grains.GetGroupGrain(group).BanAsync(owner, user);

        Assert.DoesNotContain(user, fixture.Registry(1).GetGroupMembers(group));
    }

    [Fact]
    public async Task Mutes_and_bans_outlive_the_group_grains_activation()
    {
        var owner = new Caller(new UserId(NewId("teacher")), Caller.TeacherRole);
        var muted = new UserId(NewId("muted"));
        var banned = new UserId(NewId("banned"));
        var group = new GroupId(NewId("class"));
        var until = DateTimeOffset.UtcNow.AddDays(1);
        await fixture.Grains.GetGroupGrain(group).PutAsync(owner, GroupPolicy.Open);
        await fixture.Grains.GetGroupGrain(group).MuteAsync(owner, muted, until);
        await fixture.Grains.GetGroupGrain(group).BanAsync(owner, banned);

        await fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var info = await fixture.Grains.GetGroupGrain(group).GetAsync();

        Assert.Equal([new GroupMute(muted, until)], info.Mutes.ToArray());
        Assert.Equal([banned], info.Bans.ToArray());
        var refused = await Assert.ThrowsAsync<SwitchboardException>(() => SendAsync(new Caller(muted, "student"), group, "still muted?"));
        Assert.Contains("muted", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_frame_reaches_the_members_on_both_silos_through_the_group_fan_out()
    {
        var owner = new Caller(new UserId(NewId("teacher")), Caller.TeacherRole);
        var group = new GroupId(NewId("class"));
        var grain = fixture.Grains.GetGroupGrain(group);
        await grain.PutAsync(owner, GroupPolicy.Members);
        var members = new[] { await fixture.ConnectAsync(NewId("a"), silo: 0), await fixture.ConnectAsync(NewId("b"), silo: 1) };
        foreach (var member in members)
        {
            await grain.SetMemberAsync(owner, member.User, GroupRole.Member);
        }

        var sent = await SendAsync(owner, group, "typo");
        await grain.DeleteMessageAsync(owner, sent.Seq);

        foreach (var member in members)
        {
            await Wait.UntilAsync(() => member.Frames.Any(f => f.Type() == "deleted" && f.GetProperty("seq").GetInt64() == sent.Seq), "the deleted frame");
        }

        var missing = await Assert.ThrowsAsync<SwitchboardException>(() => grain.DeleteMessageAsync(owner, sent.Seq + 1));
        Assert.Equal(ProtocolError.NotFound, missing.Code);
    }
}
