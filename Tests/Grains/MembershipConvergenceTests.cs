using System.Text;
using Switchboard.Conversations;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>
/// The group grain is the truth of membership: when the user grain's write fails between the two, the change still
/// reaches it (the group's outbox retries), so live delivery follows the group, and a retried call is never a no-op.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class MembershipConvergenceTests(ClusterFixture fixture)
{
    private static readonly TimeSpan WithinARetry = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_member_removed_while_its_user_grain_cannot_write_stops_receiving_once_the_group_retries()
    {
        var (group, teacher) = await NewGroupAsync();
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await Group(group).SetMemberAsync(teacher, new UserId(alice), GroupRole.Member);
        await Group(group).SetMemberAsync(teacher, new UserId(bob), GroupRole.Member);
        var a = await fixture.ConnectAsync(alice, silo: 0);
        var b = await fixture.ConnectAsync(bob, silo: 0);
        await b.WaitForMessageAsync(Conversation(group), (await PostAsync(teacher, group, "before")).Seq);
        Assert.Single(a.Messages(Conversation(group)));

        FaultyGrainStorage.FailWrites("user", alice);
        var removal = await Assert.ThrowsAsync<SwitchboardException>(() => Group(group).RemoveMemberAsync(teacher, new UserId(alice)));
        Assert.Equal(ProtocolError.Unavailable, removal.Code);
        Assert.DoesNotContain(alice, (await Group(group).GetAsync()).Members.Select(m => m.User.Value));

        // Nobody retries the call: the group's outbox tells the user grain, which unsubscribes alice's silo.
        await Wait.UntilAsync(() => !fixture.Registry(0).GetGroupMembers(new GroupId(group)).Contains(new UserId(alice)), "alice's silo to drop her from the group", WithinARetry);
        var after = await PostAsync(teacher, group, "after");
        await b.WaitForMessageAsync(Conversation(group), after.Seq);
        Assert.DoesNotContain(a.Messages(Conversation(group)), m => m.GetProperty("seq").GetInt64() == after.Seq);
        Assert.DoesNotContain(new GroupId(group), await fixture.Grains.GetUserGrain(new UserId(alice)).GetGroupsAsync());
    }

    [Fact]
    public async Task A_member_added_while_its_user_grain_cannot_write_starts_receiving_once_the_group_retries()
    {
        var (group, teacher) = await NewGroupAsync();
        var bob = SiloHostFixture.NewId("bob");
        var b = await fixture.ConnectAsync(bob, silo: 1);

        FaultyGrainStorage.FailWrites("user", bob);
        var add = await Assert.ThrowsAsync<SwitchboardException>(() => Group(group).SetMemberAsync(teacher, new UserId(bob), GroupRole.Member));
        Assert.Equal(ProtocolError.Unavailable, add.Code);

        await Wait.UntilAsync(() => fixture.Registry(1).GetGroupMembers(new GroupId(group)).Contains(new UserId(bob)), "bob's silo to subscribe him", WithinARetry);
        var post = await PostAsync(teacher, group, "welcome");
        await b.WaitForMessageAsync(Conversation(group), post.Seq);
    }

    [Fact]
    public async Task Retrying_a_call_that_failed_after_the_group_changed_reaches_the_user_grain()
    {
        // A retry used to return early ("already removed", "already a member") and never tell the user grain.
        var (group, teacher) = await NewGroupAsync();
        var carol = SiloHostFixture.NewId("carol");
        await Group(group).SetMemberAsync(teacher, new UserId(carol), GroupRole.Member);

        FaultyGrainStorage.FailWrites("user", carol);
        await Assert.ThrowsAsync<SwitchboardException>(() => Group(group).RemoveMemberAsync(teacher, new UserId(carol)));
        await Group(group).RemoveMemberAsync(teacher, new UserId(carol));

        Assert.DoesNotContain(new GroupId(group), await fixture.Grains.GetUserGrain(new UserId(carol)).GetGroupsAsync());

        FaultyGrainStorage.FailWrites("user", carol);
        await Assert.ThrowsAsync<SwitchboardException>(() => Group(group).SetMemberAsync(teacher, new UserId(carol), GroupRole.Member));
        await Group(group).SetMemberAsync(teacher, new UserId(carol), GroupRole.Member);

        Assert.Contains(new GroupId(group), await fixture.Grains.GetUserGrain(new UserId(carol)).GetGroupsAsync());
    }

    private IGroupGrain Group(string id) => fixture.Grains.GetGroupGrain(new GroupId(id));

    private static string Conversation(string group) => $"group:{group}";

    private async Task<(string Group, Caller Teacher)> NewGroupAsync()
    {
        var group = SiloHostFixture.NewId("class");
        var teacher = new Caller(new UserId(SiloHostFixture.NewId("teacher")), Caller.TeacherRole);
        Assert.True(await Group(group).PutAsync(teacher, GroupPolicy.Members));
        return (group, teacher);
    }

    private Task<SendReceipt> PostAsync(Caller teacher, string group, string text) =>
        fixture.Grains.GetUserGrain(teacher.User).SendAsync(new SendCommand(
            teacher, Guid.NewGuid().ToString(), Recipient.ForGroup(new GroupId(group)), Encoding.UTF8.GetBytes($"{{\"text\":\"{text}\"}}"), null));
}
