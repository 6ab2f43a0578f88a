using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Cluster.Security.Tokens;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Auth;

/// <summary>The shared validator reads what a valid token says, <c>iat</c> included (revocation needs it), and says why it refused one without quoting it.</summary>
[Trait(Category.Name, Category.Fast)]
public sealed class TokenValidatorTests : IDisposable
{
    private readonly TokenValidator _validator;

    public TokenValidatorTests()
    {
        var options = new AuthOptions { SigningKey = SiloHostFactory.SigningKey };
        _validator = new TokenValidator(options, options.ConfiguredSigningKey(), TimeProvider.System, NullLoggerFactory.Instance);
    }

    [Fact]
    public async Task A_valid_token_yields_its_subject_role_expiry_and_issued_at()
    {
        var issued = DateTime.UtcNow.AddMinutes(-10);
        var expires = DateTime.UtcNow.AddMinutes(50);

        var token = await _validator.ValidateAsync(TestTokens.Mint("alice", "admin", expires: expires, issuedAt: issued));

        Assert.NotNull(token);
        Assert.Equal("alice", token.Subject);
        Assert.Equal("admin", token.Role);
        Assert.Equal(new DateTimeOffset(expires).ToUnixTimeSeconds(), token.Expires?.ToUnixTimeSeconds());
        Assert.Equal(new DateTimeOffset(issued).ToUnixTimeSeconds(), token.IssuedAt?.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task A_token_without_iat_validates_with_no_issued_at()
    {
        var token = await _validator.ValidateAsync(TestTokens.Mint("alice", withIssuedAt: false));

        Assert.NotNull(token);
        Assert.Null(token.IssuedAt);
    }

    [Fact]
    public async Task A_refusal_names_the_kind_of_failure_and_never_the_token()
    {
        var expired = TestTokens.Mint("alice", expires: DateTime.UtcNow.AddMinutes(-5));

        var missing = await _validator.CheckAsync(null);
        var refused = await _validator.CheckAsync(expired);

        Assert.False(missing.IsValid);
        Assert.Equal("missing", missing.Failure);
        Assert.False(refused.IsValid);
        Assert.Equal("SecurityTokenExpiredException", refused.Failure);
    }

    public void Dispose() => _validator.Dispose();
}
