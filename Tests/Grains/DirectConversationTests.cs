using System.Text;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>Direct conversations are sequenced by one participant's grain (DirectConversations.OwnerOf).</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(ClusterCollection.Name)]
public sealed class DirectConversationTests(ClusterFixture fixture)
{
    private static byte[] Body(string text) => Encoding.UTF8.GetBytes($"{{\"text\":\"{text}\"}}");

    private static SendCommand Command(string from, string to, string text, ConnectionId? origin = null) =>
        new(new Caller(new UserId(from), "student"), Guid.NewGuid().ToString(), Recipient.TryParse($"user:{to}", out var r) ? r : throw new ArgumentException(to), Body(text), origin);

    private Task<SendReceipt> SendAsync(string from, string to, string text, ConnectionId? origin = null) =>
        fixture.Grains.GetUserGrain(new UserId(from)).SendAsync(Command(from, to, text, origin));

    [Fact]
    public void The_owner_rule_is_stable_and_uses_both_sides()
    {
        var owners = Enumerable.Range(0, 200)
            .Select(i => ConversationId.Direct(new UserId($"u{i}"), new UserId($"v{i}")))
            .Select(c => (Conversation: c, Owner: DirectConversations.OwnerOf(c)))
            .ToList();
        Assert.All(owners, o => Assert.True(o.Conversation.HasParticipant(o.Owner)));
        Assert.All(owners, o => Assert.Equal(o.Owner, DirectConversations.OwnerOf(o.Conversation)));
        var firsts = owners.Count(o => o.Owner == o.Conversation.Participants.First);
        Assert.InRange(firsts, 60, 140);

        // Pinned: every silo and every version must agree, or two grains would sequence one conversation.
        Assert.Equal("v0", DirectConversations.OwnerOf(ConversationId.Direct(new UserId("u0"), new UserId("v0"))).Value);
        Assert.Equal("u1", DirectConversations.OwnerOf(ConversationId.Direct(new UserId("u1"), new UserId("v1"))).Value);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Both_participants_sending_at_once_get_gapless_seqs_and_every_message_arrives(bool senderOwns)
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = senderOwns ? UserIds.OwnedByOther(alice, "bob") : UserIds.OwningDirectConversationWith(alice, "bob");
        var aliceSocket = await fixture.ConnectAsync(alice, silo: 0);
        var bobSocket = await fixture.ConnectAsync(bob, silo: 1);

        var sends = Enumerable.Range(0, 40).Select(i => i % 2 == 0
            ? SendAsync(alice, bob, $"a{i}", aliceSocket.Id)
            : SendAsync(bob, alice, $"b{i}", bobSocket.Id));
        var receipts = await Task.WhenAll(sends);

        var conversation = receipts[0].Conversation;
        Assert.All(receipts, r => Assert.Equal(conversation, r.Conversation));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), receipts.Select(r => r.Seq).Order());
        Assert.Equal(40, await ClusterFixture.Log.GetLatestSeqAsync(conversation));

        // Each side receives the other's 20 messages (its own come back as acks).
        for (var i = 0; i < 40; i++)
        {
            var receiver = i % 2 == 0 ? bobSocket : aliceSocket;
            await receiver.WaitForMessageAsync(conversation.Value, receipts[i].Seq);
        }
    }

    [Fact]
    public async Task A_fresh_owner_continues_a_conversation_the_log_already_holds()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = UserIds.OwningDirectConversationWith(alice, "bob");
        var conversation = ConversationId.Direct(new UserId(alice), new UserId(bob));
        var to = Recipient.TryParse($"user:{bob}", out var r) ? r : default;

        // Written to the log behind the grains' back, as a previous run of the cluster would have left it.
        for (var seq = 1; seq <= 3; seq++)
        {
            await ClusterFixture.Log.AppendAsync(new StoredMessage(conversation, seq, new UserId(alice), to, $"old-{seq}", Body("old"), DateTimeOffset.UtcNow));
        }

        var bobSocket = await fixture.ConnectAsync(bob, silo: 1);
        var receipt = await SendAsync(alice, bob, "new");

        Assert.Equal(new SendReceipt(conversation, 4), receipt);
        await bobSocket.WaitForMessageAsync(conversation.Value, 4);
    }

    [Fact]
    public async Task Only_the_owner_sequences_a_direct_conversation()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = UserIds.OwningDirectConversationWith(alice, "bob");

        // Asking alice's grain (not the owner) to sequence a message from bob is refused.
        var refused = await Assert.ThrowsAsync<SwitchboardException>(() => fixture.Grains.GetUserGrain(new UserId(alice)).AppendDirectAsync(Command(bob, alice, "x")));
        Assert.Equal(ProtocolError.BadRequest, refused.Code);

        var stored = await fixture.Grains.GetUserGrain(new UserId(bob)).AppendDirectAsync(Command(alice, bob, "y"));
        Assert.Equal(1, stored.Seq);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_read_of_a_delivered_seq_asks_the_log_nothing_and_one_past_it_is_checked(bool readerOwns)
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = readerOwns ? UserIds.OwningDirectConversationWith(alice, "bob") : UserIds.OwnedByOther(alice, "bob");
        var bobSocket = await fixture.ConnectAsync(bob, silo: 1);
        await SendAsync(alice, bob, "first");
        var receipt = await SendAsync(alice, bob, "second");
        await bobSocket.WaitForMessageAsync(receipt.Conversation.Value, receipt.Seq);
        var reader = fixture.Grains.GetUserGrain(new UserId(bob));
        var caller = new Caller(new UserId(bob), "student");
        var lookups = ClusterFixture.Log.LatestLookups(receipt.Conversation);

        // Delivered means stored: the reader's grain saw the seq go by, so the latest needs no query of the log.
        Assert.Equal(1, await reader.MarkReadAsync(caller, receipt.Conversation, 1, null));
        Assert.Equal(receipt.Seq, await reader.MarkReadAsync(caller, receipt.Conversation, receipt.Seq, null));
        Assert.Equal(lookups, ClusterFixture.Log.LatestLookups(receipt.Conversation));

        // Past what it saw, the log is asked, and a seq past the latest stays bad_request.
        var past = await Assert.ThrowsAsync<SwitchboardException>(() => reader.MarkReadAsync(caller, receipt.Conversation, receipt.Seq + 1, null));
        Assert.Equal(ProtocolError.BadRequest, past.Code);
        Assert.Equal(lookups + 1, ClusterFixture.Log.LatestLookups(receipt.Conversation));
    }
}
