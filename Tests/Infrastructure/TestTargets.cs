namespace Switchboard.Tests.Infrastructure;

/// <summary>
/// A conformance run: with <c>SWITCHBOARD_TEST_TARGETS</c> (comma-separated base URLs of running silos) the
/// protocol tests of the shared silo host run against that cluster, signing their tokens with
/// <c>SWITCHBOARD_TEST_SIGNING_KEY</c> (the cluster's key). tools/conformance.sh sets both.
/// </summary>
public static class TestTargets
{
    public static IReadOnlyList<Uri> Urls { get; } =
        (Environment.GetEnvironmentVariable("SWITCHBOARD_TEST_TARGETS") ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(url => new Uri(url.EndsWith('/') ? url : url + "/"))
            .ToList();

    public static bool IsExternal => Urls.Count > 0;

    public static string? SigningKey { get; } = Environment.GetEnvironmentVariable("SWITCHBOARD_TEST_SIGNING_KEY") is { Length: > 0 } key ? key : null;

    /// <summary>
    /// With <c>SWITCHBOARD_TEST_INSECURE=1</c> (a gateway with a self-signed certificate), clients accept any
    /// server certificate; otherwise null, the platform's validation.
    /// </summary>
    public static System.Net.Security.RemoteCertificateValidationCallback? CertificateValidation { get; } =
        Environment.GetEnvironmentVariable("SWITCHBOARD_TEST_INSECURE") == "1" ? (_, _, _, _) => true : null;
}
