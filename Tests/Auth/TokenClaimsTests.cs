using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Switchboard.Cluster.Security.Tokens;
using Switchboard.Silo.Auth;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Auth;

/// <summary>
/// A socket keeps its upgrade request's principal for its whole life, so a validated token is cut down to the
/// protocol's claims; what reads claims (callers, token expiry, the admin policy) must not notice.
/// </summary>
[Trait(Category.Name, Category.Cluster)]
[Collection(SiloHostCollection.Name)]
public sealed class TokenClaimsTests(SiloHostFixture host)
{
    [Fact]
    public async Task A_validated_token_keeps_sub_role_exp_and_iat_and_nothing_else()
    {
        var key = new SymmetricSecurityKey(new byte[32]);
        var expires = DateTimeOffset.UtcNow.AddMinutes(5);
        var issued = DateTimeOffset.UtcNow.AddMinutes(-1);
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "switchboard",
            Audience = "switchboard",
            Expires = expires.UtcDateTime,
            IssuedAt = issued.UtcDateTime,
            Subject = new ClaimsIdentity([new Claim(TokenClaims.Subject, "alice"), new Claim(TokenClaims.Role, "admin")]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
        var validated = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "switchboard",
            ValidAudience = "switchboard",
            IssuerSigningKey = key,
        });
        Assert.True(validated.IsValid);

        var principal = TokenClaims.KeepProtocolClaims(new ClaimsPrincipal(validated.ClaimsIdentity));

        Assert.True(principal.Identity?.IsAuthenticated);
        Assert.Equal(["sub", "role", "exp", "iat"], principal.Claims.Select(c => c.Type));
        Assert.True(CallerClaims.TryGetCaller(principal, out var caller));
        Assert.Equal("alice", caller.User.Value);
        Assert.True(caller.IsAdmin);
        Assert.True(principal.IsInRole("admin"));
        Assert.True(TokenClaims.TryGetExpiry(principal, out var read));
        Assert.Equal(expires.ToUnixTimeSeconds(), read.ToUnixTimeSeconds());
        Assert.True(TokenClaims.TryGetIssuedAt(principal, out var issuedAt));
        Assert.Equal(issued.ToUnixTimeSeconds(), issuedAt.ToUnixTimeSeconds());
        Assert.Null((principal.Identity as ClaimsIdentity)?.BootstrapContext);
    }

    [Theory]
    [InlineData("admin", 200)]
    [InlineData("student", 403)]
    public async Task The_dashboard_still_tells_an_admin_from_a_student(string role, int status)
    {
        var token = await host.Api.TokenAsync(SiloHostFixture.NewId("dash"), role);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        request.Headers.Authorization = new("Bearer", token);

        using var response = await host.Api.Http.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
    }

    [Fact]
    public async Task The_dashboard_refuses_a_token_whose_role_is_an_array_even_one_naming_admin()
    {
        var token = TestTokens.Mint(SiloHostFixture.NewId("dash"), role: new[] { "student", "admin" });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        request.Headers.Authorization = new("Bearer", token);

        using var response = await host.Api.Http.SendAsync(request);

        Assert.Equal(401, (int)response.StatusCode);
    }
}
