using System.Text;
using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Grains.Users;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>
/// A user grain's per-conversation state (<see cref="DirectConversations"/>) and its send-id memory
/// (<see cref="SendDedupe"/>), without a cluster: the in-memory log behind a wrapper that counts, holds or fails calls.
/// </summary>
[Trait(Category.Name, Category.Fast)]
public sealed class DirectConversationsStateTests
{
    private static readonly UserId Owner = new("owner");

    private static SendCommand Command(string from, string requestId) =>
        new(new Caller(new UserId(from), "student"), requestId, Recipient.TryParse($"user:{Owner.Value}", out var to) ? to : throw new ArgumentException(from), Encoding.UTF8.GetBytes("{}"), null);

    private static ConversationId With(string other) => ConversationId.Direct(Owner, new UserId(other));

    [Fact]
    public async Task Past_its_capacity_an_owner_drops_the_least_recently_used_conversations_and_reads_their_seq_back()
    {
        var log = new ProbedLog();
        var conversations = new DirectConversations(Owner, log, TimeProvider.System, new ConversationListLoads());
        var others = Enumerable.Range(0, DirectConversations.Capacity + 50).Select(i => $"p{i}").ToList();
        foreach (var other in others)
        {
            Assert.Equal(1, (await conversations.AppendAsync(With(other), Command(other, $"{other}-1"))).Seq);
        }

        // Up to the capacity nothing was read: the activation's (empty) list said every conversation was new. Once
        // some were dropped, "not remembered" no longer means "new": each conversation past it asked the log.
        Assert.Equal(50, log.LatestReads);
        Assert.InRange(conversations.Count, DirectConversations.Capacity / 2, DirectConversations.Capacity);

        // The most recent is still known; the oldest was dropped and reads its seq back; both continue at 2.
        var recent = others[^1];
        Assert.Equal(2, (await conversations.AppendAsync(With(recent), Command(recent, $"{recent}-2"))).Seq);
        Assert.Equal(50, log.LatestReads);
        Assert.Equal(2, (await conversations.AppendAsync(With(others[0]), Command(others[0], $"{others[0]}-2"))).Seq);
        Assert.Equal(51, log.LatestReads);
    }

    [Fact]
    public async Task A_list_read_when_the_user_connected_serves_the_first_sends_without_a_read_of_their_own()
    {
        var log = new ProbedLog();
        var before = new DirectConversations(Owner, log, TimeProvider.System, new ConversationListLoads());
        Assert.Equal(1, (await before.AppendAsync(With("alice"), Command("alice", "alice-1"))).Seq);
        Assert.Equal(1, log.ListCalls);

        // The next activation: its user connects, and the list is read before any send.
        var slots = new ConversationListLoads(1);
        var after = new DirectConversations(Owner, log, TimeProvider.System, slots);
        after.Prefetch();
        after.Prefetch();
        await Wait.UntilAsync(() => Task.FromResult(log.ListCalls == 2 && slots.Free == 1), "the prefetch reads the list once and frees its slot");

        Assert.Equal(2, (await after.AppendAsync(With("alice"), Command("alice", "alice-2"))).Seq);
        Assert.Equal(1, (await after.AppendAsync(With("bob"), Command("bob", "bob-1"))).Seq);
        Assert.Equal((2, 0), (log.ListCalls, log.LatestReads));
    }

    [Fact]
    public async Task A_list_read_still_queued_for_a_slot_never_holds_a_send_up_and_gives_its_turn_up_when_the_send_reads_the_list()
    {
        var log = new ProbedLog { HoldList = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var slots = new ConversationListLoads(1);
        var other = new UserId("other-owner");
        var holder = new DirectConversations(other, log, TimeProvider.System, slots);
        var held = holder.AppendAsync(ConversationId.Direct(other, new UserId("zed")), Command("zed", "z1")).AsTask();
        await Wait.UntilAsync(() => Task.FromResult(log.ListCalls == 1), "another owner holds the only slot");

        var conversations = new DirectConversations(Owner, log, TimeProvider.System, slots);
        conversations.Prefetch();

        // Queued behind the held slot: the send reads its own conversation's seq and goes on.
        var stored = await conversations.AppendAsync(With("alice"), Command("alice", "a1")).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, stored.Seq);
        Assert.Equal(1, log.LatestReads);
        Assert.False(held.IsCompleted);

        // The slot frees: the queued read takes it, and the next send to another conversation uses what it read.
        log.HoldList.SetResult();
        Assert.Equal(1, (await held).Seq);
        await Wait.UntilAsync(() => Task.FromResult(log.ListCalls == 2 && slots.Free == 1), "the queued read runs once the slot is free");
        Assert.Equal(1, (await conversations.AppendAsync(With("bob"), Command("bob", "b1"))).Seq);
        Assert.Equal((2, 1), (log.ListCalls, log.LatestReads));
    }

    [Fact]
    public async Task Appends_to_one_conversation_take_turns_in_order_while_other_conversations_go_ahead()
    {
        var log = new ProbedLog { Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var conversations = new DirectConversations(Owner, log, TimeProvider.System, new ConversationListLoads());

        var first = conversations.AppendAsync(With("alice"), Command("alice", "a1")).AsTask();
        var queued = Enumerable.Range(2, 4).Select(i => conversations.AppendAsync(With("alice"), Command("alice", $"a{i}")).AsTask()).ToList();
        var other = conversations.AppendAsync(With("bob"), Command("bob", "b1")).AsTask();

        // alice's first append holds her conversation; bob's reached the log beside it.
        await Wait.UntilAsync(() => Task.FromResult(log.Appends == 2), "both conversations' first appends reach the log");
        Assert.False(first.IsCompleted);
        Assert.All(queued, q => Assert.False(q.IsCompleted));

        log.Hold.SetResult();
        var stored = await Task.WhenAll([first, .. queued, other]);
        Assert.Equal([1, 2, 3, 4, 5], stored.Take(5).Select(m => m.Seq));
        Assert.Equal(["a1", "a2", "a3", "a4", "a5"], stored.Take(5).Select(m => m.RequestId));
        Assert.Equal(1, stored[5].Seq);
        Assert.Equal(5, await log.GetLatestSeqAsync(With("alice")));
    }

    [Fact]
    public async Task After_a_write_whose_outcome_is_unknown_the_next_append_reads_the_seq_back()
    {
        var log = new ProbedLog();
        var conversations = new DirectConversations(Owner, log, TimeProvider.System, new ConversationListLoads());
        Assert.Equal(1, (await conversations.AppendAsync(With("carol"), Command("carol", "c1"))).Seq);

        // The write landed but its answer was lost.
        log.FailAfterNextAppend = true;
        await Assert.ThrowsAsync<SwitchboardException>(async () => await conversations.AppendAsync(With("carol"), Command("carol", "c2")));

        var next = await conversations.AppendAsync(With("carol"), Command("carol", "c3"));
        Assert.Equal(3, next.Seq);
        Assert.Equal(1, log.LatestReads);
    }

    [Fact]
    public async Task A_refused_duplicate_leaves_its_seq_free()
    {
        var log = new ProbedLog();
        var conversations = new DirectConversations(Owner, log, TimeProvider.System, new ConversationListLoads());
        Assert.Equal(1, (await conversations.AppendAsync(With("dave"), Command("dave", "d1"))).Seq);

        await Assert.ThrowsAsync<DuplicateRequestException>(async () => await conversations.AppendAsync(With("dave"), Command("dave", "d1")));
        Assert.Equal(2, (await conversations.AppendAsync(With("dave"), Command("dave", "d2"))).Seq);
        Assert.Equal(0, log.LatestReads);
    }

    [Fact]
    public async Task With_every_list_slot_taken_a_first_send_reads_its_seq_alone_instead_of_waiting()
    {
        var log = new ProbedLog { HoldList = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var slots = new ConversationListLoads(1);
        var first = new DirectConversations(Owner, log, TimeProvider.System, slots);
        var waiting = first.AppendAsync(With("alice"), Command("alice", "a1")).AsTask();
        await Wait.UntilAsync(() => Task.FromResult(log.ListCalls == 1), "the first owner reads its list (held)");

        // Another owner activating now finds the one slot taken: it reads its conversation's seq and goes on.
        var other = new UserId("other-owner");
        var second = new DirectConversations(other, log, TimeProvider.System, slots);
        var stored = await second.AppendAsync(ConversationId.Direct(other, new UserId("bob")), Command("bob", "b1")).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, stored.Seq);
        Assert.Equal(1, log.LatestReads);
        Assert.Equal(1, log.ListCalls);
        Assert.False(waiting.IsCompleted);

        // The held list answers: alice's conversation is not in it, so it starts at 1 without a read; the slot is free again.
        log.HoldList.SetResult();
        Assert.Equal(1, (await waiting).Seq);
        Assert.Equal(1, log.LatestReads);
        Assert.Equal(1, slots.Free);
    }

    [Fact]
    public void Send_ids_are_remembered_within_the_capacity_and_the_window()
    {
        var start = new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);
        var dedupe = new SendDedupe(TimeSpan.FromHours(24), capacity: 3);
        dedupe.Add("r1", start);
        dedupe.Add("r2", start.AddMinutes(1));
        dedupe.Add("r3", start.AddMinutes(2));
        Assert.True(dedupe.MayContain("r1"));
        Assert.False(dedupe.MayContain("r4"));

        // A fourth id pushes out the oldest.
        dedupe.Add("r4", start.AddMinutes(3));
        Assert.False(dedupe.MayContain("r1"));
        Assert.True(dedupe.MayContain("r2"));
        Assert.Equal(3, dedupe.Count);

        // A day later, only the newest id is within the window.
        dedupe.Add("r5", start.AddMinutes(3).AddHours(24));
        Assert.False(dedupe.MayContain("r2"));
        Assert.False(dedupe.MayContain("r3"));
        Assert.True(dedupe.MayContain("r4"));
        Assert.True(dedupe.MayContain("r5"));
    }

    /// <summary>The in-memory log, counting latest-seq reads and appends; it can hold appends or lose one's answer.</summary>
    private sealed class ProbedLog : IMessageLog
    {
        private readonly InMemoryMessageLog _inner = new();
        private int _appends;
        private int _latestReads;
        private int _listCalls;

        public TaskCompletionSource? Hold { get; init; }

        public TaskCompletionSource? HoldList { get; init; }

        public bool FailAfterNextAppend { get; set; }

        public int Appends => Volatile.Read(ref _appends);

        public int LatestReads => Volatile.Read(ref _latestReads);

        public int ListCalls => Volatile.Read(ref _listCalls);

        public async ValueTask AppendAsync(StoredMessage message, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _appends);
            if (Hold is not null)
            {
                await Hold.Task;
            }

            await _inner.AppendAsync(message, cancellationToken);
            if (FailAfterNextAppend)
            {
                FailAfterNextAppend = false;
                throw new TimeoutException("the commit's answer was lost");
            }
        }

        public ValueTask<long> GetLatestSeqAsync(ConversationId conversation, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _latestReads);
            return _inner.GetLatestSeqAsync(conversation, cancellationToken);
        }

        public ValueTask<HistoryPage> ReadAsync(ConversationId conversation, long after, int limit, long maxBytes, CancellationToken cancellationToken = default) =>
            _inner.ReadAsync(conversation, after, limit, maxBytes, cancellationToken);

        public ValueTask<SendReceipt?> FindRequestAsync(UserId sender, string requestId, CancellationToken cancellationToken = default) =>
            _inner.FindRequestAsync(sender, requestId, cancellationToken);

        public ValueTask<UserId?> FindSenderAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default) =>
            _inner.FindSenderAsync(conversation, seq, cancellationToken);

        public ValueTask<bool> EraseAsync(ConversationId conversation, long seq, CancellationToken cancellationToken = default) =>
            _inner.EraseAsync(conversation, seq, cancellationToken);

        public async ValueTask<IReadOnlyList<ConversationSummary>?> ListDirectConversationsAsync(UserId user, int limit, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _listCalls);
            if (HoldList is not null)
            {
                await HoldList.Task;
            }

            return await _inner.ListDirectConversationsAsync(user, limit, cancellationToken);
        }

        public ValueTask<IReadOnlyList<ConversationSummary>> ListConversationsAsync(UserId user, IReadOnlyCollection<ConversationId> groups, CancellationToken cancellationToken = default) =>
            _inner.ListConversationsAsync(user, groups, cancellationToken);
    }
}
