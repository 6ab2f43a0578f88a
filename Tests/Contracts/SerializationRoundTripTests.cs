using System.Collections.Immutable;
using Switchboard.Conversations;
using Switchboard.Grains.Groups;
using Switchboard.Grains.Users;
using Switchboard.Groups;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Users;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Contracts;

/// <summary>
/// Every contract and persisted state type survives an Orleans round trip field by field: what one silo
/// writes, another silo (or the next activation, reading storage) reads back unchanged.
/// </summary>
[Trait(Category.Name, Category.Fast)]
public sealed class SerializationRoundTripTests(SerializerFixture fixture) : IClassFixture<SerializerFixture>
{
    /// <summary>The types the tests below round-trip; <see cref="Every_serializable_type_has_a_round_trip_test"/> keeps it complete.</summary>
    internal static readonly Type[] Covered =
    [
        typeof(UserId), typeof(GroupId), typeof(ConnectionId), typeof(Caller), typeof(ConversationId),
        typeof(Recipient), typeof(SendCommand), typeof(SendReceipt), typeof(StoredMessage), typeof(Delivery),
        typeof(ConversationSummary), typeof(HistoryPage), typeof(Presence), typeof(GroupInfo), typeof(GroupMute),
        typeof(GroupMember), typeof(SwitchboardException), typeof(Switchboard.Grains.Conversations.DuplicateRequestException), typeof(UserState), typeof(GroupState), typeof(GroupMemberBucket),
        typeof(TokenRevocation), typeof(RevocationSnapshot), typeof(RevocationOutcome),

        // Holds silo routes: round-trips on a live silo (Tests/Grains/SiloRouteSerializationTests).
        typeof(TokenRevocationsState),

        // Holds a grain reference, so it round-trips on a live silo: Tests/Grains/SiloRouteSerializationTests.
        typeof(Switchboard.Connections.SiloRoute),

        // Holds a SiloAddress: round-trips on a live silo too (same test file).
        typeof(Switchboard.Cluster.SiloHttpEndpoint),
    ];

    private static readonly UserId Alice = new("alice");
    private static readonly UserId Bob = new("Bob.B_2-x");
    private static readonly GroupId Class = new("class-7b");

    // Not UTC and not whole milliseconds: the offset and the ticks must both survive.
    private static readonly DateTimeOffset Timestamp = new DateTimeOffset(2026, 11, 25, 16, 1, 40, TimeSpan.FromHours(1)).AddTicks(1_234_567);

    [Fact]
    public void Every_serializable_type_has_a_round_trip_test()
    {
        var found = ContractTypes.Serializable().ToList();
        var missing = found.Except(Covered).Select(t => t.FullName).ToList();

        Assert.True(missing.Count == 0, $"No round-trip test for: {string.Join(", ", missing)}");
        Assert.Equal(Covered.Select(t => t.FullName).Order(StringComparer.Ordinal), found.Select(t => t.FullName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void UserId_round_trips()
    {
        Assert.Equal(Bob, fixture.RoundTrip(Bob));
        Assert.Equal("Bob.B_2-x", fixture.RoundTrip(Bob).Value);
    }

    [Fact]
    public void GroupId_round_trips()
    {
        Assert.Equal("class-7b", fixture.RoundTrip(Class).Value);
    }

    [Fact]
    public void ConnectionId_round_trips()
    {
        var connection = ConnectionId.New();

        Assert.Equal(connection.Value, fixture.RoundTrip(connection).Value);
    }

    [Fact]
    public void Caller_round_trips()
    {
        var copy = fixture.RoundTrip(new Caller(Alice, Caller.TeacherRole));

        Assert.Equal(Alice, copy.User);
        Assert.Equal("teacher", copy.Role);
        Assert.True(copy.MayCreateGroups);
    }

    [Fact]
    public void ConversationId_of_a_direct_conversation_round_trips()
    {
        var copy = fixture.RoundTrip(ConversationId.Direct(Alice, Bob));

        Assert.Equal("dm:Bob.B_2-x:alice", copy.Value);
        Assert.False(copy.IsGroup);
        Assert.Equal((Bob, Alice), copy.Participants);
    }

    [Fact]
    public void ConversationId_of_a_group_round_trips()
    {
        var copy = fixture.RoundTrip(ConversationId.ForGroup(Class));

        Assert.Equal("group:class-7b", copy.Value);
        Assert.True(copy.IsGroup);
        Assert.Equal(Class, copy.Group);
    }

    [Fact]
    public void Recipient_round_trips()
    {
        var user = fixture.RoundTrip(Recipient.ForUser(Bob));
        var group = fixture.RoundTrip(Recipient.ForGroup(Class));

        Assert.Equal("user:Bob.B_2-x", user.Value);
        Assert.Equal(Bob, user.User);
        Assert.Equal("group:class-7b", group.Value);
        Assert.Equal(Class, group.Group);
    }

    [Fact]
    public void SendCommand_with_an_origin_round_trips()
    {
        var command = new SendCommand(new Caller(Alice, "student"), "req-1", Recipient.ForUser(Bob), """{"text":"hi é"}"""u8.ToArray(), ConnectionId.New());

        var copy = fixture.RoundTrip(command);

        AssertEqual(command, copy);
        Assert.NotNull(copy.Origin);
    }

    [Fact]
    public void SendCommand_without_an_origin_round_trips()
    {
        var command = new SendCommand(new Caller(Alice, "admin"), "rest-9", Recipient.ForGroup(Class), "[1,2,3]"u8.ToArray(), null);

        var copy = fixture.RoundTrip(command);

        AssertEqual(command, copy);
        Assert.Null(copy.Origin);
    }

    [Fact]
    public void SendReceipt_round_trips()
    {
        var copy = fixture.RoundTrip(new SendReceipt(ConversationId.ForGroup(Class), long.MaxValue));

        Assert.Equal(ConversationId.ForGroup(Class), copy.Conversation);
        Assert.Equal(long.MaxValue, copy.Seq);
    }

    [Fact]
    public void StoredMessage_round_trips()
    {
        var message = NewMessage(42, """{"a":[1,null,true]}""");

        AssertEqual(message, fixture.RoundTrip(message));
    }

    [Fact]
    public void A_deleted_StoredMessage_round_trips_with_its_flag()
    {
        var deleted = NewMessage(43, "1") with { Body = [], Deleted = true };

        var copy = fixture.RoundTrip(deleted);

        Assert.True(copy.Deleted);
        Assert.Empty(copy.Body);
        Assert.False(fixture.RoundTrip(NewMessage(44, "1")).Deleted);
    }

    [Fact]
    public void GroupMute_round_trips_with_and_without_an_end()
    {
        foreach (var until in new DateTimeOffset?[] { new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero), null })
        {
            Assert.Equal(new GroupMute(Bob, until), fixture.RoundTrip(new GroupMute(Bob, until)));
        }
    }

    [Fact]
    public void Delivery_round_trips_with_and_without_an_excluded_connection()
    {
        var message = NewMessage(3, "\"text\"");
        foreach (var exclude in new ConnectionId?[] { ConnectionId.New(), null })
        {
            var delivery = new Delivery(message.Conversation, message.Seq, Alice, exclude, MessageFrame.Serialize(message));

            var copy = fixture.RoundTrip(delivery);

            Assert.Equal(delivery.Conversation, copy.Conversation);
            Assert.Equal(delivery.Seq, copy.Seq);
            Assert.Equal(delivery.Sender, copy.Sender);
            Assert.Equal(delivery.Exclude, copy.Exclude);
            Assert.True(delivery.Frame.AsSpan().SequenceEqual(copy.Frame));
        }
    }

    [Fact]
    public void A_typing_delivery_round_trips_with_its_excluded_user_and_a_summary_with_its_read_marker()
    {
        var group = ConversationId.ForGroup(new GroupId("7b"));
        var delivery = new Delivery(group, 0, Alice, null, ReceiptFrames.Typing(group, Alice), ExcludeUser: Alice);

        var copy = fixture.RoundTrip(delivery);
        var summary = fixture.RoundTrip(new ConversationSummary(group, 20, Read: 17));

        Assert.Equal(Alice, copy.ExcludeUser);
        Assert.Equal("{\"type\":\"typing\",\"conversation\":\"group:7b\",\"user\":\"alice\"}", System.Text.Encoding.UTF8.GetString(copy.Frame));
        Assert.Equal((20L, 17L), (summary.Seq, summary.Read));
        Assert.Equal("{\"type\":\"read\",\"conversation\":\"group:7b\",\"user\":\"alice\",\"seq\":17}", System.Text.Encoding.UTF8.GetString(ReceiptFrames.Read(group, Alice, 17)));
    }

    [Fact]
    public void ConversationSummary_round_trips()
    {
        var copy = fixture.RoundTrip(new ConversationSummary(ConversationId.Direct(Alice, Bob), 0));

        Assert.Equal(ConversationId.Direct(Alice, Bob), copy.Conversation);
        Assert.Equal(0, copy.Seq);
    }

    [Fact]
    public void HistoryPage_round_trips_with_its_messages_in_order()
    {
        StoredMessage[] messages = [NewMessage(7, "1"), NewMessage(8, "null"), NewMessage(9, "{}")];
        var page = new HistoryPage(messages, Complete: false, More: true);

        var copy = fixture.RoundTrip(page);

        Assert.False(copy.Complete);
        Assert.True(copy.More);
        Assert.Equal(messages.Length, copy.Messages.Count);
        for (var i = 0; i < messages.Length; i++)
        {
            AssertEqual(messages[i], copy.Messages[i]);
        }
    }

    [Fact]
    public void HistoryPage_round_trips_when_empty()
    {
        var copy = fixture.RoundTrip(new HistoryPage([], Complete: true, More: false));

        Assert.Empty(copy.Messages);
        Assert.True(copy.Complete);
        Assert.False(copy.More);
    }

    [Fact]
    public void Presence_round_trips()
    {
        var copy = fixture.RoundTrip(new Presence(Bob, Online: true, Connections: 3));

        Assert.Equal(new Presence(Bob, true, 3), copy);
    }

    [Fact]
    public void GroupInfo_round_trips_for_every_policy()
    {
        foreach (var policy in Enum.GetValues<GroupPolicy>())
        {
            var info = new GroupInfo(Class, policy, [new GroupMember(Alice, GroupRole.Owner), new GroupMember(Bob, GroupRole.Member)], [new GroupMute(Bob, DateTimeOffset.UnixEpoch), new GroupMute(Alice, null)], [new UserId("mallory")]);

            var copy = fixture.RoundTrip(info);

            Assert.Equal(Class, copy.Id);
            Assert.Equal(policy, copy.Policy);
            Assert.Equal(info.Members.ToArray(), copy.Members.ToArray());
            Assert.Equal(info.Mutes.ToArray(), copy.Mutes.ToArray());
            Assert.Equal(info.Bans.ToArray(), copy.Bans.ToArray());
        }
    }

    [Fact]
    public void GroupInfo_round_trips_without_members()
    {
        var copy = fixture.RoundTrip(new GroupInfo(Class, GroupPolicy.Members, ImmutableArray<GroupMember>.Empty, ImmutableArray<GroupMute>.Empty, ImmutableArray<UserId>.Empty));

        Assert.Empty(copy.Members);
    }

    [Fact]
    public void GroupMember_round_trips_for_every_role()
    {
        foreach (var role in Enum.GetValues<GroupRole>())
        {
            Assert.Equal(new GroupMember(Alice, role), fixture.RoundTrip(new GroupMember(Alice, role)));
        }
    }

    [Fact]
    public void SwitchboardException_keeps_its_code_and_message()
    {
        foreach (var code in Enum.GetValues<ProtocolError>())
        {
            var copy = fixture.RoundTrip(new SwitchboardException(code, $"failed with {code}"));

            Assert.Equal(code, copy.Code);
            Assert.Equal($"failed with {code}", copy.Message);
        }
    }

    [Fact]
    public void SwitchboardException_keeps_its_type_code_and_message_when_sent_as_an_exception()
    {
        // Grain calls carry failures as Exception: the edge must still see the protocol code.
        Exception thrown = SwitchboardException.Forbidden("Only members may post.");

        var copy = Assert.IsType<SwitchboardException>(fixture.RoundTrip(thrown));

        Assert.Equal(ProtocolError.Forbidden, copy.Code);
        Assert.Equal("Only members may post.", copy.Message);
    }

    [Fact]
    public void DuplicateRequestException_keeps_its_type_and_request_id_when_sent_as_an_exception()
    {
        // An owner on another silo answers a stored request id with it; the sender's grain must still recognise it.
        Exception thrown = new Switchboard.Grains.Conversations.DuplicateRequestException("r-42");

        var copy = Assert.IsType<Switchboard.Grains.Conversations.DuplicateRequestException>(fixture.RoundTrip(thrown));

        Assert.Equal("r-42", copy.RequestId);
    }

    [Fact]
    public void UserState_round_trips_its_groups()
    {
        var state = new UserState();
        state.Groups.Add("class-7b");
        state.Groups.Add("Class-7b");
        state.Groups.Add("x");

        var copy = fixture.RoundTrip(state);

        Assert.Equal(state.Groups.Order(StringComparer.Ordinal), copy.Groups.Order(StringComparer.Ordinal));
        Assert.Contains("Class-7b", copy.Groups);
        Assert.DoesNotContain("CLASS-7B", copy.Groups);
    }

    [Fact]
    public void UserState_round_trips_when_empty()
    {
        Assert.Empty(fixture.RoundTrip(new UserState()).Groups);
    }

    [Fact]
    public void GroupState_round_trips_for_every_policy()
    {
        foreach (var policy in Enum.GetValues<GroupPolicy>())
        {
            var state = new GroupState { Exists = true, Policy = policy };
            state.Members["alice"] = GroupRole.Owner;
            state.Members["Alice"] = GroupRole.Member;
            state.Unnotified.Add("bob");
            state.Mutes["carol"] = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
            state.Mutes["dave"] = null;
            state.Bans.Add("mallory");

            var copy = fixture.RoundTrip(state);

            Assert.Equal(["bob"], copy.Unnotified);
            Assert.Equal(state.Mutes.OrderBy(m => m.Key, StringComparer.Ordinal), copy.Mutes.OrderBy(m => m.Key, StringComparer.Ordinal));
            Assert.Equal(["mallory"], copy.Bans);

            Assert.True(copy.Exists);
            Assert.Equal(policy, copy.Policy);
            Assert.Equal(state.Members.OrderBy(m => m.Key, StringComparer.Ordinal), copy.Members.OrderBy(m => m.Key, StringComparer.Ordinal));
            Assert.False(copy.Members.ContainsKey("ALICE"));
        }
    }

    [Fact]
    public void A_spread_GroupState_and_its_member_bucket_round_trip()
    {
        var copy = fixture.RoundTrip(new GroupState { Exists = true, Buckets = 4, Layout = 3 });
        Assert.Equal(4, copy.Buckets);
        Assert.Equal(3, copy.Layout);

        var bucket = new GroupMemberBucket();
        bucket.Members["carol"] = GroupRole.Owner;
        bucket.Members["dave"] = GroupRole.Member;
        bucket.Unnotified.Add("dave");
        var bucketCopy = fixture.RoundTrip(bucket);
        Assert.Equal(bucket.Members.OrderBy(m => m.Key, StringComparer.Ordinal), bucketCopy.Members.OrderBy(m => m.Key, StringComparer.Ordinal));
        Assert.Equal(["dave"], bucketCopy.Unnotified);
    }

    [Fact]
    public void GroupState_round_trips_when_new()
    {
        var copy = fixture.RoundTrip(new GroupState());

        Assert.False(copy.Exists);
        Assert.Equal(GroupPolicy.Open, copy.Policy);
        Assert.Empty(copy.Members);
    }

    [Fact]
    public void Token_revocations_round_trip()
    {
        var revocation = new TokenRevocation(Bob, Timestamp, Timestamp.AddHours(24));
        var snapshot = new RevocationSnapshot(7, [revocation, new TokenRevocation(Alice, Timestamp.AddSeconds(1), Timestamp.AddDays(2))]);

        Assert.Equal(revocation, fixture.RoundTrip(revocation));
        Assert.Equal(Timestamp.Offset, fixture.RoundTrip(revocation).Before.Offset);
        var copy = fixture.RoundTrip(snapshot);
        Assert.Equal(7, copy.Version);
        Assert.Equal<TokenRevocation>(snapshot.Revocations, copy.Revocations);
        Assert.Equal(new RevocationOutcome(revocation, 2, 1, 3), fixture.RoundTrip(new RevocationOutcome(revocation, 2, 1, 3)));
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, false)]
    [InlineData(1, false)]
    public void A_revocation_refuses_tokens_issued_before_it_and_tokens_without_iat(int secondsFromBefore, bool refused)
    {
        var revocation = new TokenRevocation(Alice, Timestamp, Timestamp.AddHours(24));

        Assert.Equal(refused, revocation.Refuses(Timestamp.AddSeconds(secondsFromBefore)));
        Assert.True(revocation.Refuses(null));
    }

    private static StoredMessage NewMessage(long seq, string body) =>
        new(ConversationId.Direct(Alice, Bob), seq, Alice, Recipient.ForUser(Bob), $"req-{seq}", System.Text.Encoding.UTF8.GetBytes(body), Timestamp);

    private static void AssertEqual(SendCommand expected, SendCommand actual)
    {
        Assert.Equal(expected.Sender, actual.Sender);
        Assert.Equal(expected.RequestId, actual.RequestId);
        Assert.Equal(expected.To, actual.To);
        Assert.True(expected.Body.AsSpan().SequenceEqual(actual.Body), "body bytes differ");
        Assert.Equal(expected.Origin, actual.Origin);
    }

    private static void AssertEqual(StoredMessage expected, StoredMessage actual)
    {
        Assert.Equal(expected.Conversation, actual.Conversation);
        Assert.Equal(expected.Seq, actual.Seq);
        Assert.Equal(expected.From, actual.From);
        Assert.Equal(expected.To, actual.To);
        Assert.Equal(expected.RequestId, actual.RequestId);
        Assert.True(expected.Body.AsSpan().SequenceEqual(actual.Body), "body bytes differ");
        Assert.Equal(expected.Timestamp, actual.Timestamp);
        Assert.Equal(expected.Timestamp.Offset, actual.Timestamp.Offset);
    }
}
