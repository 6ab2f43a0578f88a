using System.Text;
using Orleans.Runtime;
using Switchboard.Conversations;
using Switchboard.Identity;
using Switchboard.Messaging;
using Switchboard.Persistence.MariaDb;
using Switchboard.Silo.WebSockets;

namespace Switchboard.Silo.Hosting;

/// <summary>The warm-up's steps, in the order they run, and the service that runs them before readiness.</summary>
public static class WarmUpHosting
{
    public static IHostApplicationBuilder AddSwitchboardWarmUp(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<WarmUpOptions>().BindConfiguration(WarmUpOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IWarmUpStep, DatabaseWarmUpStep>();
        services.AddSingleton<IWarmUpStep, GrainWarmUpStep>();
        services.AddSingleton<IWarmUpStep, FrameWarmUpStep>();
        services.AddSingleton<SiloWarmUp>();
        services.AddHostedService(sp => sp.GetRequiredService<SiloWarmUp>());
        return builder;
    }
}

/// <summary>A durable silo's MariaDB pools opened, reads run, a first message dry-run and rolled back (<see cref="MariaDbWarmUp"/>).</summary>
internal sealed class DatabaseWarmUpStep(IServiceProvider services) : IWarmUpStep
{
    public string Name => "database";

    public Task RunAsync(WarmUpOptions options, CancellationToken cancellationToken) =>
        services.GetService<MariaDbWarmUp>() is { } database && options.DatabaseConnections > 0
            ? database.RunAsync(options.DatabaseConnections, cancellationToken)
            : Task.CompletedTask;
}

/// <summary>
/// Grain calls a connecting and sending user makes (activation with its state and list reads, presence, a delivery),
/// made on scratch users whose ids no edge accepts (<c>~</c>): read-only, and a delivery to a user with no sockets
/// goes nowhere. Several at once, so the silo's messaging and the thread pool see concurrency before users do.
/// </summary>
internal sealed class GrainWarmUpStep(IGrainFactory grains, ILocalSiloDetails silo) : IWarmUpStep
{
    private const int Parallel = 8;

    public string Name => "grains";

    public async Task RunAsync(WarmUpOptions options, CancellationToken cancellationToken)
    {
        var users = Enumerable.Range(0, Parallel).Select(i => new UserId($"~warm-up.{silo.SiloAddress.ToParsableString()}.{i}")).ToArray();
        var frame = MessageFrame.Serialize(FrameWarmUpStep.Sample);
        for (var round = 0; round < options.Rounds; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.WhenAll(users.Select(async user =>
            {
                var grain = grains.GetUserGrain(user);
                await grain.GetConversationsAsync();
                await grain.GetPresenceAsync();
                await grain.DeliverAsync(new Delivery(FrameWarmUpStep.Sample.Conversation, round + 1, user, Exclude: null, frame));
            }));
        }
    }
}

/// <summary>Client frames parsed and server frames written, the JSON every socket message goes through.</summary>
internal sealed class FrameWarmUpStep : IWarmUpStep
{
    internal static readonly StoredMessage Sample = new(MariaDbMessageLog.WarmUpConversation, 1, MariaDbMessageLog.WarmUpUserA,
        Recipient.ForUser(MariaDbMessageLog.WarmUpUserB), "warm-up", "{\"p\":\"warm-up\",\"t\":0}"u8.ToArray(), DateTimeOffset.UnixEpoch);

    private static readonly byte[][] ClientFrames =
    [
        Encoding.UTF8.GetBytes("""{"type":"send","id":"w-1","to":"user:warm-up","body":{"p":"warm-up","t":1}}"""),
        Encoding.UTF8.GetBytes("""{"type":"send","id":"w-2","to":"group:warm-up","body":"text"}"""),
        Encoding.UTF8.GetBytes("""{"type":"resume","id":"w-3","since":{"dm:a:b":1}}"""),
        Encoding.UTF8.GetBytes("""{"type":"read","id":"w-4","conversation":"dm:a:b","seq":1}"""),
        Encoding.UTF8.GetBytes("""{"type":"ping","id":"w-5"}"""),
    ];

    public string Name => "frames";

    public Task RunAsync(WarmUpOptions options, CancellationToken cancellationToken)
    {
        for (var round = 0; round < options.Rounds; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var frame in ClientFrames)
            {
                ClientFrame.TryParse(frame, out _, out _);
            }

            MessageFrame.Serialize(Sample);
            ServerFrames.SendAck("w-1", Sample.Conversation, round);
            ServerFrames.Ack("w-1");
        }

        return Task.CompletedTask;
    }
}
