using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace Switchboard.Cluster.Security;

/// <summary>
/// Has OpenSSL free a TLS connection's two record buffers (about 34 KiB allocated, 13 KiB of it resident) whenever they are empty
/// (<c>SSL_MODE_RELEASE_BUFFERS</c>, which nginx and HAProxy set by default), so an idle wss socket holds neither.
/// .NET offers no setting for it: this finds the connection's OpenSSL handle inside <see cref="SslStream"/> and sets
/// the mode on it. Where that cannot be done (not Linux, a .NET whose <see cref="SslStream"/> is laid out otherwise,
/// no OpenSSL mapped) nothing is changed and <see cref="Release"/> says so.
/// </summary>
public static unsafe class IdleTlsBuffers
{
    // ssl.h: SSL_set_mode(ssl, mode) is SSL_ctrl(ssl, SSL_CTRL_MODE, mode, NULL), which returns the mode after the change.
    private const int SslCtrlMode = 33;
    private const nint SslModeReleaseBuffers = 0x10;

    private static readonly Lazy<OpenSsl?> Native = new(OpenSsl.Find);

    /// <summary>Sets the mode on <paramref name="stream"/>'s connection (after its handshake); false where it could not be set.</summary>
    public static bool Release(SslStream stream) => Control(stream, SslModeReleaseBuffers) is { } mode && (mode & SslModeReleaseBuffers) != 0;

    /// <summary>Whether <paramref name="stream"/>'s connection has the mode; null where it cannot be read (for tests).</summary>
    internal static bool? IsReleasing(SslStream stream) => Control(stream, 0) is { } mode ? (mode & SslModeReleaseBuffers) != 0 : null;

    /// <summary>
    /// Sets the mode on every connection of <paramref name="listen"/> once its handshake is done: call it after
    /// <c>UseHttps</c>. The first connection it cannot set it on is logged, once per endpoint.
    /// </summary>
    public static ListenOptions UseIdleTlsBufferRelease(this ListenOptions listen, ILogger logger)
    {
        var reported = 0;
        var endpoint = listen.ToString() ?? "an endpoint";
        listen.Use(next => context =>
        {
            if (context.Features.Get<ISslStreamFeature>()?.SslStream is { } stream && !Release(stream) && Interlocked.Exchange(ref reported, 1) == 0)
            {
                IdleTlsBuffersLog.Unavailable(logger, endpoint);
            }

            return next(context);
        });
        return listen;
    }

    private static nint? Control(SslStream stream, nint mode)
    {
        if (Native.Value is not { } openSsl || openSsl.Context.GetValue(stream) is not SafeHandle ssl || ssl.GetType().Name != "SafeSslHandle")
        {
            return null;
        }

        var added = false;
        try
        {
            // Held for the call: a connection closing meanwhile cannot free the SSL under it.
            ssl.DangerousAddRef(ref added);
            var handle = ssl.DangerousGetHandle();
            return handle == 0 ? null : openSsl.Ctrl(handle, SslCtrlMode, mode, 0);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
        finally
        {
            if (added)
            {
                ssl.DangerousRelease();
            }
        }
    }

    private sealed class OpenSsl(FieldInfo context, delegate* unmanaged<nint, int, nint, nint, nint> ctrl)
    {
        public FieldInfo Context { get; } = context;

        public nint Ctrl(nint ssl, int command, nint larg, nint parg) => ctrl(ssl, command, larg, parg);

        /// <summary>The field holding the connection's SSL handle, and SSL_ctrl of the libssl .NET itself mapped (never another copy).</summary>
        public static OpenSsl? Find()
        {
            if (!OperatingSystem.IsLinux()
                || typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic) is not { } field
                || !typeof(SafeHandle).IsAssignableFrom(field.FieldType))
            {
                return null;
            }

            // Exactly one libssl mapped: with two (say 1.1 beside 3), which one .NET's handles belong to is not known here.
            var paths = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                foreach (var line in File.ReadLines("/proc/self/maps"))
                {
                    var start = line.IndexOf('/', StringComparison.Ordinal);
                    if (start >= 0 && Path.GetFileName(line.AsSpan(start)).StartsWith("libssl.so", StringComparison.Ordinal))
                    {
                        paths.Add(line[start..]);
                    }
                }
            }
            catch (IOException)
            {
                return null;
            }

            var path = paths.Count == 1 ? paths.First() : null;

            // Loading the mapped file again returns the library already loaded, so the SSL handles are its own.
            if (path is null || !NativeLibrary.TryLoad(path, out var library) || !NativeLibrary.TryGetExport(library, "SSL_ctrl", out var export))
            {
                return null;
            }

            return new OpenSsl(field, (delegate* unmanaged<nint, int, nint, nint, nint>)export);
        }
    }
}

internal static partial class IdleTlsBuffersLog
{
    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning,
        Message = "TLS connections on {Endpoint} keep their OpenSSL record buffers while idle (about 13 KiB per socket more): this runtime gives no way to release them")]
    public static partial void Unavailable(ILogger logger, string endpoint);
}
