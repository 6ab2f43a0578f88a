using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Contracts;

/// <summary><c>dm:&lt;a&gt;:&lt;b&gt;</c> with a &lt; b in ordinal order, or <c>group:&lt;id&gt;</c> (docs/protocol.md).</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class ConversationIdTests
{
    [Theory]
    [InlineData("dm:alice:bob")]
    [InlineData("dm:B:a")]
    [InlineData("dm:Zed:alice")]
    [InlineData("dm:-:.")]
    [InlineData("dm:a:aa")]
    [InlineData("dm:A:a")]
    [InlineData("dm:9:A")]
    public void TryParse_accepts_a_direct_conversation_in_ordinal_order(string value)
    {
        Assert.True(ConversationId.TryParse(value, out var id));
        Assert.Equal(value, id.Value);
        Assert.False(id.IsGroup);
    }

    [Theory]
    [InlineData("dm:bob:alice")]
    [InlineData("dm:a:B")]
    [InlineData("dm:alice:Zed")]
    [InlineData("dm:aa:a")]
    [InlineData("dm:a:A")]
    public void TryParse_rejects_a_direct_conversation_out_of_order(string value)
    {
        Assert.False(ConversationId.TryParse(value, out _));
    }

    [Theory]
    [InlineData("dm:a:a")]
    [InlineData("dm:alice:alice")]
    public void TryParse_rejects_a_direct_conversation_with_oneself(string value)
    {
        Assert.False(ConversationId.TryParse(value, out _));
    }

    [Theory]
    [InlineData("group:g")]
    [InlineData("group:Class-7b.x_y")]
    public void TryParse_accepts_a_group_conversation(string value)
    {
        Assert.True(ConversationId.TryParse(value, out var id));
        Assert.Equal(value, id.Value);
        Assert.True(id.IsGroup);
        Assert.Equal(value["group:".Length..], id.Group.Value);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("dm:")]
    [InlineData("dm:alice")]
    [InlineData("dm:alice:")]
    [InlineData("dm::bob")]
    [InlineData("dm:a:b:c")]
    [InlineData("dm:a b:c")]
    [InlineData("dm:a:é")]
    [InlineData("DM:a:b")]
    [InlineData(" dm:a:b")]
    [InlineData("group:")]
    [InlineData("group:a:b")]
    [InlineData("group:a b")]
    [InlineData("Group:g")]
    [InlineData("user:alice")]
    [InlineData("alice")]
    public void TryParse_rejects_a_malformed_id(string? value)
    {
        Assert.False(ConversationId.TryParse(value, out var id));
        Assert.Equal(default, id);
    }

    [Fact]
    public void TryParse_rejects_parts_over_64_characters()
    {
        var longest = new string('z', 64);
        var tooLong = new string('z', 65);

        Assert.True(ConversationId.TryParse($"dm:a:{longest}", out _));
        Assert.False(ConversationId.TryParse($"dm:a:{tooLong}", out _));
        Assert.True(ConversationId.TryParse($"group:{longest}", out _));
        Assert.False(ConversationId.TryParse($"group:{tooLong}", out _));
    }

    [Theory]
    [InlineData("alice", "bob", "dm:alice:bob")]
    [InlineData("bob", "alice", "dm:alice:bob")]
    [InlineData("a", "B", "dm:B:a")]
    [InlineData("B", "a", "dm:B:a")]
    public void Direct_is_the_same_whichever_user_comes_first(string a, string b, string expected)
    {
        var forward = ConversationId.Direct(new UserId(a), new UserId(b));
        var backward = ConversationId.Direct(new UserId(b), new UserId(a));

        Assert.Equal(expected, forward.Value);
        Assert.Equal(forward, backward);
        Assert.True(ConversationId.TryParse(forward.Value, out var parsed));
        Assert.Equal(forward, parsed);
    }

    [Fact]
    public void Direct_with_oneself_is_refused()
    {
        Assert.Throws<ArgumentException>(() => ConversationId.Direct(new UserId("alice"), new UserId("alice")));
    }

    [Fact]
    public void Direct_exposes_both_participants_in_ordinal_order()
    {
        var id = ConversationId.Direct(new UserId("bob"), new UserId("Alice"));

        Assert.Equal((new UserId("Alice"), new UserId("bob")), id.Participants);
        Assert.True(id.HasParticipant(new UserId("bob")));
        Assert.True(id.HasParticipant(new UserId("Alice")));
        Assert.False(id.HasParticipant(new UserId("alice")));
        Assert.Throws<InvalidOperationException>(() => id.Group);
    }

    [Fact]
    public void ForGroup_is_the_group_conversation()
    {
        var id = ConversationId.ForGroup(new GroupId("g1"));

        Assert.Equal("group:g1", id.Value);
        Assert.Equal(new GroupId("g1"), id.Group);
        Assert.False(id.HasParticipant(new UserId("g1")));
        Assert.Throws<InvalidOperationException>(() => id.Participants);
        Assert.True(ConversationId.TryParse("group:g1", out var parsed));
        Assert.Equal(parsed, id);
    }
}
