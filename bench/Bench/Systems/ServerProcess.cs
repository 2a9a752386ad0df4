using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Shop.Bench.Systems;

/// <summary>
/// A peer's server (redis-server, rabbitmq-server, nats-server) started from its Debian package on a
/// free loopback port with a data folder of its own (its output in <c>server.log</c> there), and
/// killed with its children afterwards. The folder goes with it: a <c>bench all</c> leaves about
/// 1.5 GB of streams and queues behind otherwise. A server that fails to start keeps its folder, for its log.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly string _dataDir;

    private ServerProcess(Process process, StreamWriter log, string dataDir)
    {
        _process = process;
        _log = log;
        _dataDir = dataDir;
    }

    public int ProcessId => _process.Id;

    /// <summary>Null when the program is installed, else why the peer is skipped.</summary>
    public static string? Missing(string program) =>
        File.Exists(program) ? null : $"{program} is not installed (apt-get install {Path.GetFileName(program)})";

    public static async Task<ServerProcess> StartAsync(string program, IEnumerable<string> arguments, int port, string dataDir,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var logFile = Path.Combine(dataDir, "server.log");
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var log = new StreamWriter(logFile) { AutoFlush = true };
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, log, dataDir);
        try
        {
            await WaitForPortAsync(process, port, timeout ?? TimeSpan.FromSeconds(30), $"see {logFile}");
        }
        catch
        {
            await server.StopAsync(); // not left running for the rest of the bench; its folder stays, for the log
            throw;
        }
        return server;
    }

    /// <summary>Waits until <paramref name="port"/> accepts connections; fails at once if the process exits first.</summary>
    public static async Task WaitForPortAsync(Process process, int port, TimeSpan timeout, string whereToLook)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"{process.StartInfo.FileName} exited with {process.ExitCode}; {whereToLook}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                if (DateTime.UtcNow >= deadline)
                    throw new TimeoutException($"{process.StartInfo.FileName} did not open port {port} within {timeout.TotalSeconds:0} s; {whereToLook}");
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Kills the server with its children and closes its log, once its last output lines are in.</summary>
    private async Task StopAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"could not delete {_dataDir}: {ex.Message}");
        }
    }

}
