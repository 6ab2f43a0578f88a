using Switchboard.Conversations;
using Switchboard.Grains.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Grains;

/// <summary>
/// What an owner remembers of its direct conversations (<see cref="ConversationTable"/>): turns, latest seqs, the
/// owner's list, and the bound. <see cref="DirectConversationsStateTests"/> drives the same through a log.
/// </summary>
[Trait(Category.Name, Category.Fast)]
public sealed class ConversationTableTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly UserId Owner = new("owner");

    private static ConversationId With(string other) => ConversationId.Direct(Owner, new UserId(other));

    [Fact]
    public async Task A_free_turn_is_taken_at_once_and_a_held_one_passes_to_the_waiting_appends_in_order()
    {
        var table = new ConversationTable(100);
        Assert.True(table.EnterAsync(With("alice")).IsCompletedSuccessfully);
        Assert.True(table.EnterAsync(With("bob")).IsCompletedSuccessfully);

        var second = table.EnterAsync(With("alice")).AsTask();
        var third = table.EnterAsync(With("alice")).AsTask();
        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);

        table.Exit(With("alice"));
        await second.WaitAsync(Deadline);
        Assert.False(third.IsCompleted);

        table.Exit(With("alice"));
        await third.WaitAsync(Deadline);

        // The last one out frees the turn: the next append takes it at once.
        table.Exit(With("alice"));
        Assert.True(table.EnterAsync(With("alice")).IsCompletedSuccessfully);
    }

    [Fact]
    public void A_new_conversations_seq_is_unresolved_until_set_and_unknown_again_after_a_write_in_doubt()
    {
        var table = new ConversationTable(100);
        var carol = With("carol");
        _ = table.EnterAsync(carol);
        Assert.True(table.IsUnresolved(carol));
        Assert.False(table.TryGetLatest(carol, out _));

        table.SetLatest(carol, 5);
        Assert.True(table.TryGetLatest(carol, out var latest));
        Assert.Equal(5, latest);
        Assert.False(table.IsUnresolved(carol));

        // In doubt is not unresolved: the owner's list cannot settle it, only the log.
        table.SetInDoubt(carol);
        Assert.False(table.TryGetLatest(carol, out _));
        Assert.False(table.IsUnresolved(carol));
    }

    [Fact]
    public void A_complete_list_fills_the_entries_not_looked_up_keeps_what_others_learnt_since_and_makes_the_rest_new()
    {
        var table = new ConversationTable(100);
        _ = table.EnterAsync(With("a"));
        _ = table.EnterAsync(With("b"));
        table.SetLatest(With("b"), 9);
        _ = table.EnterAsync(With("c"));
        table.SetInDoubt(With("c"));

        table.AddList([new(With("a"), 4), new(With("b"), 7), new(With("c"), 3), new(With("d"), 2)]);

        Assert.True(table.IsComplete);
        Assert.Equal(4, Latest(table, With("a")));
        Assert.Equal(9, Latest(table, With("b")));
        Assert.False(table.TryGetLatest(With("c"), out _));
        Assert.Equal(2, Latest(table, With("d")));

        // Not in the complete list: a new conversation.
        _ = table.EnterAsync(With("e"));
        Assert.Equal(0, Latest(table, With("e")));
        Assert.Equal(5, table.Count);
    }

    [Fact]
    public void A_list_longer_than_the_table_holds_leaves_it_incomplete()
    {
        var table = new ConversationTable(100);
        _ = table.EnterAsync(With("a"));

        table.AddList(null);

        Assert.False(table.IsComplete);
        Assert.False(table.TryGetLatest(With("a"), out _));
        Assert.True(table.IsUnresolved(With("a")));
    }

    [Fact]
    public void Past_its_capacity_the_table_drops_the_least_recently_used_idle_quarter_and_never_a_busy_entry()
    {
        var table = new ConversationTable(8);
        table.AddList([]);
        _ = table.EnterAsync(With("c0"));
        table.SetLatest(With("c0"), 42);
        for (var i = 1; i < 8; i++)
        {
            Use(table, With($"c{i}"), seq: i);
        }

        // c1 used again: now c2 and c3 are the least recently used idle entries (c0 is older, but busy).
        Use(table, With("c1"), seq: 11);
        Assert.Equal(8, table.Count);
        Assert.True(table.IsComplete);

        _ = table.EnterAsync(With("c8"));

        Assert.Equal(7, table.Count);
        Assert.True(table.IsUnresolved(With("c2")));
        Assert.True(table.IsUnresolved(With("c3")));
        Assert.Equal(42, Latest(table, With("c0")));
        Assert.Equal(11, Latest(table, With("c1")));
        Assert.Equal(7, Latest(table, With("c7")));

        // A dropped conversation is no longer "absent, so new": its seq is to be read.
        Assert.False(table.IsComplete);
        Assert.False(table.TryGetLatest(With("c2"), out _));
    }

    [Fact]
    public void A_list_that_comes_after_entries_were_dropped_is_not_trusted()
    {
        var table = new ConversationTable(4);
        for (var i = 0; i < 5; i++)
        {
            Use(table, With($"c{i}"), seq: i + 1);
        }

        table.AddList([new(With("c0"), 1)]);

        Assert.False(table.IsComplete);
        _ = table.EnterAsync(With("new"));
        Assert.False(table.TryGetLatest(With("new"), out _));
    }

    private static void Use(ConversationTable table, ConversationId conversation, long seq)
    {
        Assert.True(table.EnterAsync(conversation).IsCompletedSuccessfully);
        table.SetLatest(conversation, seq);
        table.Exit(conversation);
    }

    private static long Latest(ConversationTable table, ConversationId conversation) =>
        table.TryGetLatest(conversation, out var latest) ? latest : throw new InvalidOperationException($"{conversation}'s seq is not known");
}
