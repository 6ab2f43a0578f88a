using System.Text;
using Switchboard.Conversations;
using Switchboard.Grains.Groups;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>
/// A large group's members are spread over storage buckets: a join rewrites one bucket, not the whole group (which made
/// a class joining at once cost quadratic writes), every member reads back after a reactivation, and a failed write
/// anywhere loses nothing that was answered with success.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class GroupMembershipStorageTests(ClusterFixture fixture)
{
    // Enough members for two respreads (inline -> 2 buckets -> 4 buckets).
    private const int Members = 2 * GroupMembership.BucketMost + 40;

    [Fact]
    public async Task Each_join_of_a_large_group_rewrites_one_bucket_and_every_member_reads_back_after_a_reactivation()
    {
        var (group, teacher) = await NewGroupAsync();
        var users = Enumerable.Range(0, Members).Select(i => $"{group}-m{i:0000}").ToArray();
        foreach (var user in users)
        {
            await Group(group).SetMemberAsync(teacher, new UserId(user), GroupRole.Member);
        }

        var writes = FaultyGrainStorage.Writes(group);
        Assert.True(writes.Count > Members, $"expected a write per join, saw {writes.Count}");

        // No write ever carried the whole group: the largest is a bucket or the small group's own state.
        var largest = writes.Max(w => w.Members);
        Assert.True(largest <= 2 * GroupMembership.BucketMost, $"a write held {largest} members of {Members + 1}");
        Assert.All(writes.Where(w => w.State == "group"), w => Assert.True(w.Members <= GroupMembership.InlineMost, $"the group's own state held {w.Members} members"));

        // The last join wrote one bucket of about a quarter of the members.
        var last = writes[^1];
        Assert.StartsWith("group-members-", last.State);
        Assert.True(last.Members < (Members + 1) / 2, $"the last join wrote {last.Members} members");

        await Reactivate();

        var info = await Group(group).GetAsync();
        Assert.Equal(Members + 1, info.Members.Length);
        Assert.Equal([.. users.Append(teacher.User.Value).Order(StringComparer.Ordinal)], info.Members.Select(m => m.User.Value).ToArray());
        Assert.Equal(GroupRole.Owner, info.Members.Single(m => m.User == teacher.User).Role);

        // Membership decisions read the buckets: a member posts, a stranger is refused, a removal sticks.
        var member = new Caller(new UserId(users[^1]), "student");
        await PostAsync(member, group, "from a member");
        var stranger = new Caller(new UserId(SiloHostFixture.NewId("stranger")), "student");
        var refused = await Assert.ThrowsAsync<SwitchboardException>(() => PostAsync(stranger, group, "from outside"));
        Assert.Equal(ProtocolError.Forbidden, refused.Code);

        await Group(group).RemoveMemberAsync(teacher, new UserId(users[7]));
        await Group(group).SetMemberAsync(teacher, new UserId(users[8]), GroupRole.Owner);
        await Reactivate();
        info = await Group(group).GetAsync();
        Assert.Equal(Members, info.Members.Length);
        Assert.DoesNotContain(users[7], info.Members.Select(m => m.User.Value));
        Assert.Equal(GroupRole.Owner, info.Members.Single(m => m.User.Value == users[8]).Role);
        Assert.DoesNotContain(new GroupId(group), await fixture.Grains.GetUserGrain(new UserId(users[7])).GetGroupsAsync());
    }

    [Fact]
    public async Task A_failed_respread_loses_no_member_and_the_retried_join_spreads_the_group()
    {
        var (group, teacher) = await NewGroupAsync();
        var users = Enumerable.Range(0, GroupMembership.InlineMost - 1).Select(i => $"{group}-m{i:0000}").ToArray();
        foreach (var user in users)
        {
            await Group(group).SetMemberAsync(teacher, new UserId(user), GroupRole.Member);
        }

        // The 257th member spreads the group; the write that points the group at its buckets fails.
        var next = new UserId($"{group}-next");
        FaultyGrainStorage.FailWrites("group", group);
        var failed = await Assert.ThrowsAsync<SwitchboardException>(() => Group(group).SetMemberAsync(teacher, next, GroupRole.Member));
        Assert.Equal(ProtocolError.Unavailable, failed.Code);

        var info = await Group(group).GetAsync();
        Assert.Equal(GroupMembership.InlineMost, info.Members.Length);
        Assert.DoesNotContain(next, info.Members.Select(m => m.User));

        // The retry overwrites what the failed attempt left of the new layout, and the group is whole.
        await Group(group).SetMemberAsync(teacher, next, GroupRole.Member);
        Assert.StartsWith("group-members-", FaultyGrainStorage.Writes(group)[^2].State);
        await Reactivate();
        info = await Group(group).GetAsync();
        Assert.Equal(GroupMembership.InlineMost + 1, info.Members.Length);
        Assert.Contains(next, info.Members.Select(m => m.User));
    }

    [Fact]
    public async Task A_failed_bucket_write_is_answered_unavailable_and_leaves_the_member_out_until_retried()
    {
        var (group, teacher) = await NewGroupAsync();
        for (var i = 0; i < GroupMembership.InlineMost + 10; i++)
        {
            await Group(group).SetMemberAsync(teacher, new UserId($"{group}-m{i:0000}"), GroupRole.Member);
        }

        var late = new UserId($"{group}-late");
        var bucket = GroupMembership.BucketName(layout: 1, GroupMembership.BucketOf(late.Value, buckets: 2));
        FaultyGrainStorage.FailWrites(bucket, group);
        var failed = await Assert.ThrowsAsync<SwitchboardException>(() => Group(group).SetMemberAsync(teacher, late, GroupRole.Member));
        Assert.Equal(ProtocolError.Unavailable, failed.Code);
        Assert.Equal(0, FaultyGrainStorage.PendingFailures(bucket, group));

        Assert.DoesNotContain(late, (await Group(group).GetAsync()).Members.Select(m => m.User));
        await Group(group).SetMemberAsync(teacher, late, GroupRole.Member);
        await Reactivate();
        Assert.Contains(late, (await Group(group).GetAsync()).Members.Select(m => m.User));
        Assert.Contains(new GroupId(group), await fixture.Grains.GetUserGrain(late).GetGroupsAsync());
    }

    [Fact]
    public async Task In_a_spread_group_a_member_whose_user_grain_cannot_write_is_told_by_the_outbox()
    {
        var (group, teacher) = await NewGroupAsync();
        for (var i = 0; i < GroupMembership.InlineMost + 10; i++)
        {
            await Group(group).SetMemberAsync(teacher, new UserId($"{group}-m{i:0000}"), GroupRole.Member);
        }

        var bob = SiloHostFixture.NewId("bob");
        var b = await fixture.ConnectAsync(bob, silo: 1);
        FaultyGrainStorage.FailWrites("user", bob);
        var add = await Assert.ThrowsAsync<SwitchboardException>(() => Group(group).SetMemberAsync(teacher, new UserId(bob), GroupRole.Member));
        Assert.Equal(ProtocolError.Unavailable, add.Code);

        await Wait.UntilAsync(() => fixture.Registry(1).GetGroupMembers(new GroupId(group)).Contains(new UserId(bob)), "bob's silo to subscribe him", TimeSpan.FromSeconds(10));
        var post = await PostAsync(teacher, group, "welcome");
        await b.WaitForMessageAsync($"group:{group}", post.Seq);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(64)]
    public void Bucket_of_is_stable_and_spreads_ids_evenly(int buckets)
    {
        // Stored layouts depend on the hash: these values must never change.
        // FNV-1a of "foobar" is 0xbf9cf968 (the published test vector).
        Assert.Equal((int)(0xbf9cf968u & (uint)(buckets - 1)), GroupMembership.BucketOf("foobar", buckets));

        var counts = new int[buckets];
        for (var i = 0; i < buckets * 200; i++)
        {
            counts[GroupMembership.BucketOf($"student-{i}", buckets)]++;
        }

        Assert.All(counts, count => Assert.InRange(count, 100, 300));
    }

    private Task Reactivate() => fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

    private IGroupGrain Group(string id) => fixture.Grains.GetGroupGrain(new GroupId(id));

    private async Task<(string Group, Caller Teacher)> NewGroupAsync()
    {
        var group = SiloHostFixture.NewId("class");
        var teacher = new Caller(new UserId(SiloHostFixture.NewId("teacher")), Caller.TeacherRole);
        Assert.True(await Group(group).PutAsync(teacher, GroupPolicy.Members));
        return (group, teacher);
    }

    private Task<SendReceipt> PostAsync(Caller sender, string group, string text) =>
        fixture.Grains.GetUserGrain(sender.User).SendAsync(new SendCommand(
            sender, Guid.NewGuid().ToString(), Recipient.ForGroup(new GroupId(group)), Encoding.UTF8.GetBytes($"{{\"text\":\"{text}\"}}"), null));
}
