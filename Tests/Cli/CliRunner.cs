using System.Text;
using Switchboard.Cli;
using Switchboard.Cli.Commands;
using Switchboard.Tests.Infrastructure;

namespace Switchboard.Tests.Cli;

/// <summary>What one CLI command line printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error)
{
    public string[] Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>A command line running in the background (a tail): its output so far, and Ctrl-C.</summary>
public sealed class RunningCli : IAsyncDisposable
{
    private readonly CancellationTokenSource _interrupt = new();

    public RunningCli(string[] args, IReadOnlyDictionary<string, string>? variables)
    {
        Exit = Task.Run(() => CliProgram.RunAsync(args, new CliEnvironment(Output, Error, name => variables?.GetValueOrDefault(name)), cancellationToken: _interrupt.Token));
    }

    public CapturedWriter Output { get; } = new();

    public CapturedWriter Error { get; } = new();

    public Task<int> Exit { get; }

    public string[] Lines => Output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Waits until stderr has said "connected" <paramref name="times"/> times.</summary>
    public async Task ConnectedAsync(int times = 1)
    {
        await Wait.UntilAsync(() => Count(Error.Text, "connected to ") >= times || Exit.IsCompleted, $"the CLI connected {times} time(s); stderr: {Error.Text}", TimeSpan.FromSeconds(30));
        if (Count(Error.Text, "connected to ") < times)
        {
            throw new InvalidOperationException($"The CLI ended (exit {await Exit}) before it connected {times} time(s).\nstderr: {Error.Text}\nstdout: {Output.Text}");
        }
    }

    public async Task<CliRun> EndAsync(TimeSpan? timeout = null)
    {
        var code = await Exit.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        return new CliRun(code, Output.Text, Error.Text);
    }

    /// <summary>Ctrl-C.</summary>
    public Task<CliRun> InterruptAsync()
    {
        _interrupt.Cancel();
        return EndAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _interrupt.CancelAsync();
        await Exit.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);
        _interrupt.Dispose();
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}

/// <summary>Calls the CLI's entry point in-process with captured output and only the variables given (never the test process's).</summary>
public static class CliRunner
{
    public static Task<CliRun> RunAsync(params string[] args) => RunAsync(null, args);

    public static async Task<CliRun> RunAsync(IReadOnlyDictionary<string, string>? variables, params string[] args)
    {
        var (output, error) = (new CapturedWriter(), new CapturedWriter());
        var code = await CliProgram.RunAsync(args, new CliEnvironment(output, error, name => variables?.GetValueOrDefault(name)))
            .WaitAsync(TimeSpan.FromSeconds(60));
        return new CliRun(code, output.Text, error.Text);
    }

    public static RunningCli Start(params string[] args) => new(args, null);
}

/// <summary>A writer a test can read while the CLI writes to it from another thread.</summary>
public sealed class CapturedWriter : TextWriter
{
    private readonly StringBuilder _text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    public override void Write(char value)
    {
        lock (_text)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_text)
        {
            _text.Append(value);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_text)
        {
            _text.Append(value).Append('\n');
        }
    }
}
