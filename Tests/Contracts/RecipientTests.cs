using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Contracts;

/// <summary>The <c>to</c> of a send: <c>user:&lt;id&gt;</c> or <c>group:&lt;id&gt;</c> (docs/protocol.md).</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class RecipientTests
{
    [Theory]
    [InlineData("user:alice", "alice")]
    [InlineData("user:Bob.B_2-x", "Bob.B_2-x")]
    public void TryParse_accepts_a_user(string value, string user)
    {
        Assert.True(Recipient.TryParse(value, out var recipient));
        Assert.Equal(value, recipient.Value);
        Assert.False(recipient.IsGroup);
        Assert.Equal(new UserId(user), recipient.User);
        Assert.Throws<InvalidOperationException>(() => recipient.Group);
        Assert.Equal(Recipient.ForUser(new UserId(user)), recipient);
    }

    [Theory]
    [InlineData("group:g", "g")]
    [InlineData("group:Class-7b", "Class-7b")]
    public void TryParse_accepts_a_group(string value, string group)
    {
        Assert.True(Recipient.TryParse(value, out var recipient));
        Assert.Equal(value, recipient.Value);
        Assert.True(recipient.IsGroup);
        Assert.Equal(new GroupId(group), recipient.Group);
        Assert.Throws<InvalidOperationException>(() => recipient.User);
        Assert.Equal(Recipient.ForGroup(new GroupId(group)), recipient);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("alice")]
    [InlineData("user:")]
    [InlineData("group:")]
    [InlineData("user:a:b")]
    [InlineData("user:a b")]
    [InlineData("user:é")]
    [InlineData("User:alice")]
    [InlineData("GROUP:g")]
    [InlineData(" user:alice")]
    [InlineData("dm:a:b")]
    [InlineData("users:alice")]
    public void TryParse_rejects_anything_else(string? value)
    {
        Assert.False(Recipient.TryParse(value, out var recipient));
        Assert.Equal(default, recipient);
    }

    [Fact]
    public void TryParse_rejects_an_id_over_64_characters()
    {
        Assert.True(Recipient.TryParse("user:" + new string('u', 64), out _));
        Assert.False(Recipient.TryParse("user:" + new string('u', 65), out _));
        Assert.False(Recipient.TryParse("group:" + new string('g', 65), out _));
    }
}
