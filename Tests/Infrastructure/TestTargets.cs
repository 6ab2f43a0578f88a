namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// A conformance run: with <c>SWITCHBOARD_TEST_TARGETS</c> (comma-separated base URLs of running silos) the
/// protocol tests of the shared silo host run against that cluster, signing their tokens with
/// <c>SWITCHBOARD_TEST_SIGNING_KEY</c> (the cluster's key), or, for a cluster in secure mode, getting them from its
/// issuer <c>SWITCHBOARD_TEST_ISSUER_URL</c> and signing the ones it would not issue with its key
/// <c>SWITCHBOARD_TEST_ISSUER_KEY</c> (see <see cref="ClusterTokens"/>). tools/conformance.sh sets them.
/// </summary>
public static class TestTargets
{
    public static IReadOnlyList<Uri> Urls { get; } =
        (Environment.GetEnvironmentVariable("SWITCHBOARD_TEST_TARGETS") ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(url => new Uri(url.EndsWith('/') ? url : url + "/"))
            .ToList();

    public static bool IsExternal => Urls.Count > 0;

    /// <summary>The base URL of the secure cluster's token issuer; null when the cluster under test serves dev tokens.</summary>
    public static Uri? IssuerUrl { get; } = Environment.GetEnvironmentVariable("SWITCHBOARD_TEST_ISSUER_URL") is { Length: > 0 } url
        ? new Uri(url.EndsWith('/') ? url : url + "/")
        : null;

    /// <summary>The issuer's private key file (PEM), read to sign the tokens the issuer would never make.</summary>
    public static string? IssuerKeyPath { get; } = Environment.GetEnvironmentVariable("SWITCHBOARD_TEST_ISSUER_KEY") is { Length: > 0 } path ? path : null;

    public static string? SigningKey { get; } = Environment.GetEnvironmentVariable("SWITCHBOARD_TEST_SIGNING_KEY") is { Length: > 0 } key ? key : null;

    /// <summary>
    /// With <c>SWITCHBOARD_TEST_INSECURE=1</c> (a gateway with a self-signed certificate), clients accept any
    /// server certificate; otherwise null, the platform's validation.
    /// </summary>
    public static System.Net.Security.RemoteCertificateValidationCallback? CertificateValidation { get; } =
        Environment.GetEnvironmentVariable("SWITCHBOARD_TEST_INSECURE") == "1" ? (_, _, _, _) => true : null;
}
