using System.Text;
using Switchboard.Conversations;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

[Trait(Category.Name, Category.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class CrossSiloRoutingTests(ClusterFixture fixture)
{
    private static byte[] Body(string text) => Encoding.UTF8.GetBytes($"{{\"text\":\"{text}\"}}");

    private static string NewId(string prefix) => SiloHostFixture.NewId(prefix);

    private Task<SendReceipt> SendAsync(string from, string to, string text, string? id = null, ConnectionId? origin = null, string role = "student") =>
        fixture.Grains.GetUserGrain(new UserId(from)).SendAsync(new SendCommand(
            new Caller(new UserId(from), role), id ?? Guid.NewGuid().ToString(), Parse(to), Body(text), origin));

    private static Recipient Parse(string to) => Recipient.TryParse(to, out var r) ? r : throw new ArgumentException(to);

    [Fact]
    public async Task A_direct_message_reaches_a_socket_on_the_other_silo_through_its_sink()
    {
        var alice = NewId("alice");
        var bob = NewId("bob");
        var a = await fixture.ConnectAsync(alice, silo: 0);
        var b = await fixture.ConnectAsync(bob, silo: 1);
        var before = fixture.Sink(1).UserCalls;

        var receipt = await SendAsync(alice, $"user:{bob}", "hi", origin: a.Id);

        var message = await b.WaitForMessageAsync(receipt.Conversation.Value, receipt.Seq);
        Assert.Equal(alice, message.Str("from"));
        Assert.True(fixture.Sink(1).UserCalls > before);
        Assert.Empty(a.Messages(receipt.Conversation.Value));
    }

    [Fact]
    public async Task Every_device_of_the_recipient_and_the_senders_other_devices_receive_a_direct_message()
    {
        var alice = NewId("alice");
        var bob = NewId("bob");
        var alicePhone = await fixture.ConnectAsync(alice, silo: 0);
        var aliceLaptop = await fixture.ConnectAsync(alice, silo: 1);
        var bobPhone = await fixture.ConnectAsync(bob, silo: 0);
        var bobLaptop = await fixture.ConnectAsync(bob, silo: 1);

        var receipt = await SendAsync(alice, $"user:{bob}", "to all devices", origin: alicePhone.Id);
        var conversation = receipt.Conversation.Value;

        await bobPhone.WaitForMessageAsync(conversation, receipt.Seq);
        await bobLaptop.WaitForMessageAsync(conversation, receipt.Seq);
        await aliceLaptop.WaitForMessageAsync(conversation, receipt.Seq);

        // The sending device got the ack (the receipt) and never the message itself.
        var marker = await SendAsync(bob, $"user:{alice}", "marker", origin: bobPhone.Id);
        await alicePhone.WaitForMessageAsync(conversation, marker.Seq);
        Assert.DoesNotContain(alicePhone.Messages(conversation), m => m.GetProperty("seq").GetInt64() == receipt.Seq);
    }

    [Fact]
    public async Task A_group_message_costs_one_call_per_silo_holding_members()
    {
        var owner = NewId("teacher");
        var group = new GroupId(NewId("class"));
        var grain = fixture.Grains.GetGroupGrain(group);
        await grain.PutAsync(new Caller(new UserId(owner), Caller.TeacherRole), GroupPolicy.Members);

        var members = Enumerable.Range(0, 10).Select(i => NewId($"s{i}")).ToList();
        var connections = new List<TestConnection>();
        for (var i = 0; i < members.Count; i++)
        {
            connections.Add(await fixture.ConnectAsync(members[i], silo: i % 2));
            await grain.SetMemberAsync(new Caller(new UserId(owner), Caller.TeacherRole), new UserId(members[i]), GroupRole.Member);
        }

        var before0 = fixture.Sink(0).GroupCalls;
        var before1 = fixture.Sink(1).GroupCalls;
        var receipt = await SendAsync(owner, $"group:{group}", "lesson one", role: Caller.TeacherRole);

        foreach (var connection in connections)
        {
            await connection.WaitForMessageAsync(receipt.Conversation.Value, receipt.Seq);
        }

        Assert.Equal(1, fixture.Sink(0).GroupCalls - before0);
        Assert.Equal(1, fixture.Sink(1).GroupCalls - before1);
    }

    [Fact]
    public async Task Concurrent_senders_to_one_group_get_gapless_seq()
    {
        var owner = NewId("teacher");
        var group = new GroupId(NewId("busy"));
        await fixture.Grains.GetGroupGrain(group).PutAsync(new Caller(new UserId(owner), Caller.TeacherRole), GroupPolicy.Open);
        var listener = await fixture.ConnectAsync(owner, silo: 1);

        var senders = Enumerable.Range(0, 20).Select(i => NewId($"p{i}")).ToList();
        var receipts = await Task.WhenAll(senders.SelectMany(sender =>
            Enumerable.Range(0, 10).Select(n => SendAsync(sender, $"group:{group}", $"{sender}-{n}"))));

        var seqs = receipts.Select(r => r.Seq).OrderBy(s => s).ToList();
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), seqs);

        var page = await ClusterFixture.Log.ReadAsync(ConversationId.ForGroup(group), 0, 1000, long.MaxValue);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), page.Messages.Select(m => m.Seq));
        await Wait.UntilAsync(() => listener.Messages($"group:{group}").Count == 200, "the owner receives all 200");
    }

    [Fact]
    public async Task A_retried_send_id_is_stored_and_delivered_once_even_concurrently()
    {
        var alice = NewId("alice");
        var bob = NewId("bob");
        var b = await fixture.ConnectAsync(bob, silo: 1);
        var id = Guid.NewGuid().ToString();

        var receipts = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => SendAsync(alice, $"user:{bob}", "once", id)));
        var retried = await SendAsync(alice, $"group:{NewId("elsewhere")}", "different to and body", id);

        Assert.All(receipts, r => Assert.Equal(receipts[0], r));
        Assert.Equal(receipts[0], retried);
        var page = await ClusterFixture.Log.ReadAsync(receipts[0].Conversation, 0, 100, long.MaxValue);
        Assert.Single(page.Messages);
        await b.WaitForMessageAsync(receipts[0].Conversation.Value, 1);
        var marker = await SendAsync(alice, $"user:{bob}", "marker");
        await b.WaitForMessageAsync(marker.Conversation.Value, marker.Seq);
        Assert.Single(b.Messages(receipts[0].Conversation.Value), m => m.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task A_retried_send_id_is_recognised_after_the_user_grain_was_deactivated()
    {
        var alice = NewId("alice");
        var bob = NewId("bob");
        var id = Guid.NewGuid().ToString();
        var first = await SendAsync(alice, $"user:{bob}", "first", id);

        var management = fixture.Grains.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);

        var retried = await SendAsync(alice, $"user:{bob}", "retry", id);
        Assert.Equal(first, retried);
        Assert.Equal(1, await ClusterFixture.Log.GetLatestSeqAsync(first.Conversation));
    }

    [Fact]
    public async Task A_retry_after_deactivation_to_another_recipient_or_a_group_gets_the_original_receipt_and_stores_nothing()
    {
        var alice = NewId("alice");
        var bob = NewId("bob");
        var carol = NewId("carol");
        var group = new GroupId(NewId("open"));
        await fixture.Grains.GetGroupGrain(group).PutAsync(new Caller(new UserId(alice), Caller.TeacherRole), GroupPolicy.Open);
        var id = Guid.NewGuid().ToString();
        var first = await SendAsync(alice, $"user:{bob}", "first", id);
        var groupFirst = await SendAsync(alice, $"group:{group.Value}", "group first", id + "-g", role: Caller.TeacherRole);

        await fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        // Nothing in memory knows these ids any more: the log refuses the rows, and the original receipts come back.
        Assert.Equal(first, await SendAsync(alice, $"user:{carol}", "retry elsewhere", id));
        Assert.Equal(first, await SendAsync(alice, $"group:{group.Value}", "retry in the group", id, role: Caller.TeacherRole));
        Assert.Equal(groupFirst, await SendAsync(alice, $"user:{bob}", "group retry as a dm", id + "-g"));
        Assert.Equal(1, await ClusterFixture.Log.GetLatestSeqAsync(first.Conversation));
        Assert.Equal(1, await ClusterFixture.Log.GetLatestSeqAsync(groupFirst.Conversation));
        Assert.Equal(0, await ClusterFixture.Log.GetLatestSeqAsync(ConversationId.Direct(new UserId(alice), new UserId(carol))));

        // The refused rows took no seq: the next messages continue without a gap.
        Assert.Equal(2, (await SendAsync(alice, $"user:{bob}", "next")).Seq);
        Assert.Equal(2, (await SendAsync(alice, $"group:{group.Value}", "next", role: Caller.TeacherRole)).Seq);
    }

    [Fact]
    public async Task Joining_subscribes_the_members_silo_and_leaving_unsubscribes_it()
    {
        var owner = NewId("teacher");
        var student = NewId("student");
        var group = new GroupId(NewId("club"));
        var grain = fixture.Grains.GetGroupGrain(group);
        await grain.PutAsync(new Caller(new UserId(owner), Caller.TeacherRole), GroupPolicy.Open);
        var connection = await fixture.ConnectAsync(student, silo: 1);
        var caller = new Caller(new UserId(student), "student");

        await grain.JoinAsync(caller);
        Assert.Contains(new UserId(student), fixture.Registry(1).GetGroupMembers(group));
        var first = await SendAsync(owner, $"group:{group}", "welcome", role: Caller.TeacherRole);
        await connection.WaitForMessageAsync(first.Conversation.Value, first.Seq);

        await grain.LeaveAsync(caller);
        Assert.DoesNotContain(new UserId(student), fixture.Registry(1).GetGroupMembers(group));
        var second = await SendAsync(owner, $"group:{group}", "after leaving", role: Caller.TeacherRole);
        var marker = await SendAsync(owner, $"user:{student}", "marker", role: Caller.TeacherRole);
        await connection.WaitForMessageAsync(marker.Conversation.Value, marker.Seq);
        Assert.DoesNotContain(connection.Messages(second.Conversation.Value), m => m.GetProperty("seq").GetInt64() == second.Seq);
    }

    [Fact]
    public async Task Presence_counts_connections_on_every_silo_and_drops_them_on_detach()
    {
        var user = NewId("multi");
        var one = await fixture.ConnectAsync(user, silo: 0);
        var two = await fixture.ConnectAsync(user, silo: 1);
        var grain = fixture.Grains.GetUserGrain(new UserId(user));

        var presence = await grain.GetPresenceAsync();
        Assert.True(presence.Online);
        Assert.Equal(2, presence.Connections);

        await fixture.Router(0).DetachAsync(one);
        await fixture.Router(1).DetachAsync(two);
        presence = await grain.GetPresenceAsync();
        Assert.False(presence.Online);
        Assert.Equal(0, presence.Connections);
    }

    [Fact]
    public async Task Renewal_restores_a_registration_the_user_grain_lost()
    {
        var alice = NewId("alice");
        var bob = NewId("bob");
        var b = await fixture.ConnectAsync(bob, silo: 1);

        // The grain forgets everything it held in memory (as after a deactivation); the silo's renewal re-announces it.
        await fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await fixture.Router(1).RenewAsync(CancellationToken.None);

        var receipt = await SendAsync(alice, $"user:{bob}", "after renewal");
        await b.WaitForMessageAsync(receipt.Conversation.Value, receipt.Seq);
    }
}
