using System.Security.Cryptography;
using Switchboard.Cluster.Security.Tokens;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Auth;

/// <summary>A silo checks its signing key at start: what decodes to fewer than 32 random-looking bytes, or is a placeholder, stops it.</summary>
[Trait(Category.Name, Category.Cluster)]
public sealed class SigningKeyTests
{
    public static TheoryData<string, string> RefusedKeys() => new()
    {
        { "the reference env file's placeholder", ReferencePlaceholder() },
        { "64 hex characters of one byte", new string('0', 64) },
        { "a short pattern repeated", string.Concat(Enumerable.Repeat("0123456789abcdef", 4)) },
        { "31 random bytes as hex", RandomNumberGenerator.GetHexString(62, lowercase: true) },
        { "a 40-character passphrase", "correct horse battery staple and friends" },
    };

    [Theory]
    [MemberData(nameof(RefusedKeys))]
    public async Task A_silo_refuses_to_start_with_a_key_that_is_short_a_placeholder_or_not_random(string kind, string key)
    {
        var factory = new SiloHostFactory(new Dictionary<string, string?> { ["Switchboard:Auth:SigningKey"] = key, ["Switchboard:Auth:DevTokens"] = "false" });

        var refused = await factory.StartExpectingRefusalAsync();

        Assert.True(refused is not null, $"a silo started with {kind}");
        Assert.Contains("Switchboard:Auth:SigningKey", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silo_starts_with_a_key_made_as_the_local_cluster_makes_it_and_accepts_tokens_signed_with_it()
    {
        // deploy/local/cluster.sh: od -An -tx1 -N32 /dev/urandom, i.e. 32 random bytes as 64 hex characters.
        var key = RandomNumberGenerator.GetHexString(64, lowercase: true);
        await using var factory = new SiloHostFactory(new Dictionary<string, string?> { ["Switchboard:Auth:SigningKey"] = key, ["Switchboard:Auth:DevTokens"] = "false" });
        using var api = new ApiClient(factory.BaseAddress);
        var alice = SiloHostFixture.NewId("alice");

        var reply = await api.GetAsync($"/api/users/{alice}/presence", TestTokens.Mint(alice, signingKey: key));

        Assert.Equal(200, reply.Status);
    }

    public static TheoryData<string> AcceptedKeys() => new()
    {
        RandomNumberGenerator.GetHexString(64, lowercase: true),
        RandomNumberGenerator.GetHexString(128, lowercase: false),
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)).Replace('+', '-').Replace('/', '_').TrimEnd('='),
        SiloHostFactory.SigningKey,
    };

    [Theory]
    [MemberData(nameof(AcceptedKeys))]
    public void Random_keys_in_hex_or_base64_pass_the_policy(string key)
    {
        Assert.Null(SigningKeyPolicy.Check(key));
    }

    [Theory]
    [InlineData("CHANGE-ME-but-otherwise-0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("change-me")]
    [InlineData("not hex, not base64!")]
    [InlineData("q83vEjRWeJqrze8SNFZ4mqvN7xI0Vniaq83vEjRWeJo=")]
    public void Placeholders_text_and_repeated_bytes_fail_the_policy(string key)
    {
        Assert.NotNull(SigningKeyPolicy.Check(key));
    }

    /// <summary>The value deploy/reference/env/silo.env ships, as written there.</summary>
    private static string ReferencePlaceholder()
    {
        var line = File.ReadLines(Path.Combine(Infrastructure.Servers.ChildProcesses.RepositoryRoot(), "deploy", "reference", "env", "silo.env"))
            .Single(l => l.StartsWith("Switchboard__Auth__SigningKey=", StringComparison.Ordinal));
        return line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..];
    }
}
