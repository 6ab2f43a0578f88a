using Switchboard.Identity;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Contracts;

/// <summary>User and group ids: 1 to 64 characters of <c>A-Z a-z 0-9 . _ -</c>, case-sensitive (docs/protocol.md).</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class IdentifierTests
{
    public static TheoryData<string> Valid => new()
    {
        "a",
        "Z",
        "0",
        ".",
        "_",
        "-",
        "alice",
        "Alice.Smith_2-b",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
        "abcdefghijklmnopqrstuvwxyz0123456789._-",
        new string('x', 64),
    };

    public static TheoryData<string> Invalid => new()
    {
        "",
        new string('x', 65),
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
        " ",
        "al ice",
        " alice",
        "alice ",
        "alice\t",
        "a:b",
        "user:alice",
        "a/b",
        "a@b",
        "a+b",
        "a\u0000b",
        "é",
        "alicé",
        "ａ",
        "٣",
        "\U0001F600",
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void UserId_TryParse_accepts_a_well_formed_id(string value)
    {
        Assert.True(UserId.TryParse(value, out var id));
        Assert.Equal(value, id.Value);
        Assert.Equal(value, UserId.Parse(value).Value);
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void UserId_TryParse_rejects_a_malformed_id(string value)
    {
        Assert.False(UserId.TryParse(value, out var id));
        Assert.Equal(default, id);
        Assert.Throws<FormatException>(() => UserId.Parse(value));
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public void GroupId_TryParse_accepts_a_well_formed_id(string value)
    {
        Assert.True(GroupId.TryParse(value, out var id));
        Assert.Equal(value, id.Value);
        Assert.Equal(value, GroupId.Parse(value).Value);
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void GroupId_TryParse_rejects_a_malformed_id(string value)
    {
        Assert.False(GroupId.TryParse(value, out var id));
        Assert.Equal(default, id);
        Assert.Throws<FormatException>(() => GroupId.Parse(value));
    }

    [Fact]
    public void TryParse_rejects_null()
    {
        Assert.False(UserId.TryParse(null, out _));
        Assert.False(GroupId.TryParse(null, out _));
    }

    [Fact]
    public void Ids_are_case_sensitive()
    {
        Assert.NotEqual(UserId.Parse("alice"), UserId.Parse("Alice"));
        Assert.NotEqual(GroupId.Parse("g"), GroupId.Parse("G"));
        Assert.Equal(UserId.Parse("alice"), UserId.Parse("alice"));
    }

    [Theory]
    [InlineData("r")]
    [InlineData("550e8400-e29b-41d4-a716-446655440000")]
    [InlineData("with space: and ünïcode")]
    public void IsValidRequestId_accepts_any_printable_id_of_1_to_64_characters(string value)
    {
        Assert.True(Identifier.IsValidRequestId(value));
        Assert.True(Identifier.IsValidRequestId(new string('r', 64)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\nb")]
    [InlineData("a\u0000")]
    [InlineData("\u007f")]
    public void IsValidRequestId_rejects_empty_and_control_characters(string value)
    {
        Assert.False(Identifier.IsValidRequestId(value));
    }

    [Fact]
    public void IsValidRequestId_rejects_65_characters()
    {
        Assert.False(Identifier.IsValidRequestId(new string('r', 65)));
    }
}
