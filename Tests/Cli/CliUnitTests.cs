using Switchboard.Cli.Client;
using Switchboard.Cli.Tail;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cli;

/// <summary>The CLI's pieces that need no server: the backoff policy, the per-conversation cursor, server addresses.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class CliUnitTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(30);

    [Fact]
    public void Backoff_waits_are_within_zero_and_min_of_cap_and_initial_times_two_to_the_attempt()
    {
        var backoff = new Backoff(Initial, Cap, new Random(7));
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var ceiling = TimeSpan.FromTicks((long)Math.Min(Cap.Ticks, Initial.Ticks * Math.Pow(2, attempt)));
            Assert.Equal(ceiling, backoff.Ceiling);
            var wait = backoff.Next();
            Assert.InRange(wait, TimeSpan.Zero, ceiling);
        }

        Assert.Equal(40, backoff.Attempt);
        Assert.Equal(Cap, backoff.Ceiling);
    }

    [Fact]
    public void Backoff_jitter_is_full_spread_over_the_whole_range_not_a_ladder()
    {
        // At the cap, 2,000 draws: full jitter puts about a quarter in each quarter of [0, cap]; a ladder or "equal jitter" would leave the lower half empty.
        var backoff = new Backoff(Initial, Cap, new Random(11));
        for (var i = 0; i < 10; i++)
        {
            backoff.Next();
        }

        var quarters = new int[4];
        for (var i = 0; i < 2000; i++)
        {
            quarters[Math.Min(3, (int)(backoff.Next() / Cap * 4))]++;
        }

        Assert.All(quarters, count => Assert.InRange(count, 400, 600));
    }

    [Fact]
    public void Backoff_starts_again_from_initial_after_a_reset_and_refuses_a_cap_below_initial()
    {
        var backoff = new Backoff(Initial, Cap);
        for (var i = 0; i < 10; i++)
        {
            backoff.Next();
        }

        backoff.Reset();
        Assert.Equal(0, backoff.Attempt);
        Assert.Equal(Initial, backoff.Ceiling);
        Assert.InRange(backoff.Next(), TimeSpan.Zero, Initial);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Backoff(Cap, Initial));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Backoff(TimeSpan.Zero, Cap));
    }

    [Fact]
    public void The_cursor_prints_the_next_seq_drops_what_it_printed_and_holds_frames_after_a_gap_until_a_replay_fills_it()
    {
        var cursor = new ConversationCursor<long>();
        var ready = new List<long>();
        cursor.Start("dm:a:b", 4);
        Assert.Equal(Offer.Duplicate, cursor.Offer("dm:a:b", 4, 4, ready));
        Assert.Equal(Offer.Accept, cursor.Offer("dm:a:b", 5, 5, ready));
        Assert.Equal(Offer.Gap, cursor.Offer("dm:a:b", 8, 8, ready));
        Assert.Equal(Offer.Duplicate, cursor.Offer("dm:a:b", 8, 8, ready));
        Assert.True(cursor.Behind("dm:a:b"));
        Assert.Equal((5L, 1), (cursor.Last("dm:a:b"), cursor.HeldCount));

        // The resume from 5 replays 6, 7, 8: 6 and 7 release the held 8, so the replayed 8 is a duplicate. Printed once, in order.
        Assert.Equal([Offer.Accept, Offer.Accept, Offer.Duplicate], new long[] { 6, 7, 8 }.Select(seq => cursor.Offer("dm:a:b", seq, seq, ready)));
        Assert.Equal([5L, 6, 7, 8], ready);
        Assert.False(cursor.Behind("dm:a:b"));
        Assert.Equal(0, cursor.HeldCount);
    }

    [Fact]
    public void A_gap_no_replay_fills_is_skipped_and_what_follows_it_is_printed()
    {
        var cursor = new ConversationCursor<long>();
        var ready = new List<long>();
        cursor.Start("group:g", 2);
        cursor.Offer("group:g", 6, 6, ready);
        cursor.Offer("group:g", 7, 7, ready);
        Assert.Empty(ready);

        Assert.Equal((3L, 5L), cursor.SkipGap("group:g", ready));
        Assert.Equal([6L, 7], ready);
        Assert.Equal(7, cursor.Last("group:g"));
        Assert.Null(cursor.SkipGap("group:g", ready));
    }

    [Fact]
    public void The_cursor_holds_at_most_its_limit_and_still_knows_it_is_behind_after_dropping()
    {
        var cursor = new ConversationCursor<long>(holdLimit: 2);
        var ready = new List<long>();
        foreach (var seq in new long[] { 3, 4, 5 })
        {
            Assert.Equal(Offer.Gap, cursor.Offer("dm:a:b", seq, seq, ready));
        }

        Assert.Equal(2, cursor.HeldCount);
        Assert.Equal([Offer.Accept, Offer.Accept], new long[] { 1, 2 }.Select(seq => cursor.Offer("dm:a:b", seq, seq, ready)));
        Assert.Equal([1L, 2, 3, 4], ready);

        // 5 was dropped at the limit: the tail must resume for it.
        Assert.True(cursor.Behind("dm:a:b"));
        Assert.Equal(Offer.Accept, cursor.Offer("dm:a:b", 5, 5, ready));
        Assert.False(cursor.Behind("dm:a:b"));
    }

    [Fact]
    public void The_cursor_reads_a_conversation_it_has_not_seen_from_its_first_message_and_rewinds_on_a_new_epoch()
    {
        var cursor = new ConversationCursor<long>();
        var ready = new List<long>();
        Assert.Equal(Offer.Gap, cursor.Offer("group:g", 3, 3, ready));
        Assert.Equal(0, cursor.Last("group:g"));
        Assert.Equal(Offer.Accept, cursor.Offer("dm:a:c", 1, 1, ready));

        cursor.Rewind();
        Assert.Equal((0L, 0), (cursor.Last("dm:a:c"), cursor.HeldCount));
        Assert.False(cursor.Behind("group:g"));
        Assert.Equal(Offer.Accept, cursor.Offer("dm:a:c", 1, 1, ready));
    }

    [Theory]
    [InlineData("hi\u001b]0;pwned\u0007there", "hi\\u001b]0;pwned\\u0007there")]
    [InlineData("two\nlines", "two\\u000alines")]
    [InlineData("abc\u202Eevil", "abc\\u202eevil")]
    [InlineData("plain text, é and 😀", "plain text, é and 😀")]
    public void Text_for_a_terminal_has_its_control_characters_and_bidi_overrides_escaped(string text, string shown) =>
        Assert.Equal(shown, Switchboard.Cli.Output.Printer.Safe(text));

    [Theory]
    [InlineData("http://localhost:5000", "http://localhost:5000/", "ws://localhost:5000/ws")]
    [InlineData("https://127.0.0.1:8443/", "https://127.0.0.1:8443/", "wss://127.0.0.1:8443/ws")]
    [InlineData("wss://gw.example/ws", "https://gw.example/", "wss://gw.example/ws")]
    public void A_server_url_gives_the_rest_base_and_the_socket_url(string server, string rest, string socket)
    {
        var address = ServerAddress.Parse(server);
        Assert.Equal((rest, socket), (address.Rest.ToString(), address.Socket.ToString()));
    }

    [Theory]
    [InlineData("localhost:5000")]
    [InlineData("ftp://example")]
    public void A_server_that_is_not_an_http_or_ws_url_is_a_bad_request(string server) =>
        Assert.Equal("bad_request", Assert.Throws<CliError>(() => ServerAddress.Parse(server)).Code);

    [Fact]
    public void The_token_subject_is_read_from_its_payload()
    {
        Assert.Equal("alice", TokenClaims.Subject(TestTokens.Mint("alice")));
        Assert.Equal("unauthorized", Assert.Throws<CliError>(() => TokenClaims.Subject("not-a-token")).Code);
    }

    [Theory]
    [InlineData("90s", "2026-12-06T12:01:30.000Z")]
    [InlineData("10m", "2026-12-06T12:10:00.000Z")]
    [InlineData("2h", "2026-12-06T14:00:00.000Z")]
    [InlineData("1d", "2026-12-07T12:00:00.000Z")]
    public void Mute_for_a_duration_ends_that_long_from_now_in_utc(string lasting, string until)
    {
        var now = new DateTimeOffset(2026, 12, 6, 13, 0, 0, TimeSpan.FromHours(1));
        Assert.Equal(until, Switchboard.Cli.Commands.GroupCommands.MuteEnd(null, lasting, now));
    }

    [Theory]
    [InlineData(null, "10")]
    [InlineData(null, "-5m")]
    [InlineData(null, "0h")]
    [InlineData(null, "m")]
    [InlineData(null, "1w")]
    [InlineData("2099-01-01T00:00:00Z", "1h")]
    public void Mute_with_a_bad_duration_or_both_ends_is_a_bad_request(string? until, string lasting) =>
        Assert.Equal("bad_request", Assert.Throws<CliError>(() => Switchboard.Cli.Commands.GroupCommands.MuteEnd(until, lasting, DateTimeOffset.UtcNow)).Code);

    [Fact]
    public void A_deleted_message_prints_as_deleted_and_its_json_as_received()
    {
        const string Raw = """{"type":"message","conversation":"group:7b","seq":2,"from":"amy","to":"group:7b","id":"x","body":null,"ts":"2026-12-06T18:30:52.218Z","deleted":true}""";
        var (human, json) = (new StringWriter(), new StringWriter());
        new Switchboard.Cli.Output.Printer(human, TextWriter.Null, json: false).Message(ServerFrame.Parse(Raw));
        new Switchboard.Cli.Output.Printer(json, TextWriter.Null, json: true).Message(ServerFrame.Parse(Raw));
        Assert.Equal("2026-12-06T18:30:52.218Z group:7b #2 amy: (deleted)\n", human.ToString());
        Assert.Equal(Raw + "\n", json.ToString());
    }
}
