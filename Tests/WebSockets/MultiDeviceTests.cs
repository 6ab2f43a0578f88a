using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.WebSockets;

/// <summary>docs/protocol.md: a user may have several connections; each gets every message of its conversations.</summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class MultiDeviceTests(SiloHostFixture host)
{
    [Fact]
    public async Task Every_connection_of_the_recipient_receives_the_message()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var a = await host.ConnectAsync(alice);
        await using var phone = await host.ConnectAsync(bob);
        await using var laptop = await host.ConnectAsync(bob);

        await a.SendMessageAsync($"user:{bob}", "to both");

        await phone.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
        await laptop.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
    }

    [Fact]
    public async Task The_senders_other_connection_receives_its_message_and_the_sending_one_only_the_ack()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var sending = await host.ConnectAsync(alice);
        await using var other = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);

        var ack = await sending.SendMessageAsync($"user:{bob}", "mine", id: "md-1");

        var copy = await other.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
        Assert.Equal(alice, copy.Str("from"));
        Assert.Equal("md-1", copy.Str("id"));
        Assert.Equal("mine", copy.GetProperty("body").GetString());
        await b.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
        await sending.PingAsync();
        Assert.Equal("ack", ack.Type());
        Assert.Empty(sending.Messages(Protocol.Dm(alice, bob)));
    }

    [Fact]
    public async Task A_message_sent_through_REST_reaches_all_the_senders_connections()
    {
        var alice = SiloHostFixture.NewId("alice");
        var bob = SiloHostFixture.NewId("bob");
        await using var first = await host.ConnectAsync(alice);
        await using var second = await host.ConnectAsync(alice);

        var reply = await host.Api.PostAsync("/api/messages", await host.Api.TokenAsync(alice), new { to = $"user:{bob}", body = "via rest", id = "rest-1" });

        Assert.Equal(200, reply.Status);
        foreach (var socket in new[] { first, second })
        {
            var message = await socket.WaitForMessageAsync(Protocol.Dm(alice, bob), 1);
            Assert.Equal("rest-1", message.Str("id"));
        }
    }

    [Fact]
    public async Task A_message_to_a_group_reaches_the_senders_other_connection_but_not_the_sending_one()
    {
        var teacher = SiloHostFixture.NewId("teacher");
        var group = SiloHostFixture.NewId("g");
        var token = await host.Api.TokenAsync(teacher, "teacher");
        Assert.Equal(201, (await host.Api.PutAsync($"/api/groups/{group}", token, new { policy = "open" })).Status);
        await using var sending = await host.ConnectAsync(teacher, "teacher");
        await using var other = await host.ConnectAsync(teacher, "teacher");

        var ack = await sending.SendMessageAsync($"group:{group}", "to the class");

        Assert.Equal("ack", ack.Type());
        await other.WaitForMessageAsync(Protocol.Group(group), 1);
        await sending.PingAsync();
        Assert.Empty(sending.Messages(Protocol.Group(group)));
    }

    [Fact]
    public async Task A_non_member_posting_to_an_open_group_gets_its_message_on_its_other_connection()
    {
        var group = SiloHostFixture.NewId("g");
        await host.Api.PutAsync($"/api/groups/{group}", await host.Api.TokenAsync(SiloHostFixture.NewId("owner"), "teacher"), new { policy = "open" });
        var outsider = SiloHostFixture.NewId("outsider");
        await using var sending = await host.ConnectAsync(outsider);
        await using var other = await host.ConnectAsync(outsider);

        await sending.SendMessageAsync($"group:{group}", "drive-by");

        await other.WaitForMessageAsync(Protocol.Group(group), 1);
        await sending.PingAsync();
        Assert.Empty(sending.Messages(Protocol.Group(group)));
    }

    [Fact]
    public async Task A_group_message_sent_through_REST_reaches_all_the_senders_connections()
    {
        var teacher = SiloHostFixture.NewId("teacher");
        var group = SiloHostFixture.NewId("g");
        var token = await host.Api.TokenAsync(teacher, "teacher");
        await host.Api.PutAsync($"/api/groups/{group}", token, new { policy = "announce" });
        await using var first = await host.ConnectAsync(teacher, "teacher");
        await using var second = await host.ConnectAsync(teacher, "teacher");

        var reply = await host.Api.PostAsync("/api/messages", token, new { to = $"group:{group}", body = "notice" });

        Assert.Equal(200, reply.Status);
        await first.WaitForMessageAsync(Protocol.Group(group), 1);
        await second.WaitForMessageAsync(Protocol.Group(group), 1);
    }

    [Fact]
    public async Task Presence_counts_the_users_connections_and_drops_to_offline_when_they_close()
    {
        var alice = SiloHostFixture.NewId("alice");
        var token = await host.Api.TokenAsync(SiloHostFixture.NewId("observer"));
        var first = await host.ConnectAsync(alice);
        var second = await host.ConnectAsync(alice);

        var online = await host.Api.GetAsync($"/api/users/{alice}/presence", token);

        Assert.Equal(200, online.Status);
        Assert.Equal(alice, online.Body.Str("user"));
        Assert.True(online.Body.GetProperty("online").GetBoolean());
        Assert.Equal(2, online.Body.GetProperty("connections").GetInt32());

        await first.DisposeAsync();
        await Wait.UntilAsync(async () => (await host.Api.GetAsync($"/api/users/{alice}/presence", token)).Body.GetProperty("connections").GetInt32() == 1, "one connection left");
        await second.DisposeAsync();
        await Wait.UntilAsync(async () => !(await host.Api.GetAsync($"/api/users/{alice}/presence", token)).Body.GetProperty("online").GetBoolean(), "alice offline");
        var offline = await host.Api.GetAsync($"/api/users/{alice}/presence", token);
        Assert.Equal(0, offline.Body.GetProperty("connections").GetInt32());
    }

    [Fact]
    public async Task A_connection_dropped_without_a_close_handshake_leaves_presence()
    {
        var alice = SiloHostFixture.NewId("alice");
        var token = await host.Api.TokenAsync(SiloHostFixture.NewId("observer"));
        await using var socket = await host.ConnectAsync(alice);
        await socket.PingAsync();

        socket.Abort();

        await Wait.UntilAsync(async () => !(await host.Api.GetAsync($"/api/users/{alice}/presence", token)).Body.GetProperty("online").GetBoolean(), "alice offline");
    }
}
