using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class DirectMessageTests(SiloHostFixture host)
{
    [Fact]
    public async Task A_direct_message_is_acked_with_seq_and_reaches_the_recipient()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);

        Assert.Equal(alice, a.Welcome.Str("user"));
        Assert.False(string.IsNullOrEmpty(a.Welcome.Str("connection")));
        Assert.False(string.IsNullOrEmpty(a.Welcome.Str("node")));

        var ack = await a.SendMessageAsync($"user:{bob}", new { text = "hello" }, id: "m-1");
        Assert.Equal("ack", ack.Type());
        var conversation = string.CompareOrdinal(alice, bob) < 0 ? $"dm:{alice}:{bob}" : $"dm:{bob}:{alice}";
        Assert.Equal(conversation, ack.Str("conversation"));
        Assert.Equal(1, ack.GetProperty("seq").GetInt64());

        var message = await b.WaitForMessageAsync(conversation, 1);
        Assert.Equal(alice, message.Str("from"));
        Assert.Equal($"user:{bob}", message.Str("to"));
        Assert.Equal("m-1", message.Str("id"));
        Assert.Equal("hello", message.GetProperty("body").GetProperty("text").GetString());
        Assert.EndsWith("Z", message.Str("ts"));
    }
}
