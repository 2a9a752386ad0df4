using System.Collections.Concurrent;
using System.Diagnostics;

namespace Shop.Testing;

/// <summary>
/// The real broker as a separate process (its built Broker.dll) on free ports with its own data
/// folder: what a Kafka client really talks to. Can be stopped gracefully, killed (SIGKILL) and
/// started again on the same data. Keeps the output for failure messages. The one launcher of the
/// broker tests, the messaging and end-to-end tests, and the bench (tests/Shared, linked into each).
/// </summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private readonly string[] _extraArgs;
    private readonly bool _ownsDataDir;
    private string _dll = "";
    private readonly ConcurrentQueue<string> _output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _outputWaiters = [];
    private Process? _process;

    private BrokerProcess(string dataDir, bool ownsDataDir, string[] extraArgs)
    {
        DataDir = dataDir;
        _ownsDataDir = ownsDataDir;
        _extraArgs = extraArgs;
    }

    public int Port { get; private set; }

    public int HttpPort { get; private set; }

    public string DataDir { get; }

    public string BootstrapServers => $"localhost:{Port}";

    public string ConsoleUrl => $"http://127.0.0.1:{HttpPort}";

    public string Output => string.Join(System.Environment.NewLine, _output);

    /// <summary>The process id while it runs (for CPU and memory readings).</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("The broker is not running.");

    /// <summary>The broker process's resident memory now (Linux: VmRSS of /proc/&lt;pid&gt;/status).</summary>
    public long ResidentBytes()
    {
        var process = _process ?? throw new InvalidOperationException("The broker is not running.");
        var line = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>Environment variables for the broker process (say, where to export telemetry).</summary>
    public Dictionary<string, string> Environment { get; } = [];

    /// <summary>A broker with extra environment variables, such as the OTLP exporter's.</summary>
    public static async Task<BrokerProcess> StartAsync(IReadOnlyDictionary<string, string> environment, params string[] extraArgs)
    {
        var broker = new BrokerProcess(Directory.CreateTempSubdirectory("broker-test-").FullName, ownsDataDir: true, extraArgs);
        foreach (var (name, value) in environment) broker.Environment[name] = value;
        await broker.StartAsync();
        return broker;
    }

    public static async Task<BrokerProcess> StartAsync(params string[] extraArgs)
    {
        var dataDir = Directory.CreateTempSubdirectory("broker-test-").FullName;
        var broker = new BrokerProcess(dataDir, ownsDataDir: true, extraArgs);
        await broker.StartAsync();
        return broker;
    }

    /// <summary>A broker with a fresh data folder inside <paramref name="parentDir"/> (the bench's scratch folder, on the disk it measures), deleted afterwards.</summary>
    public static async Task<BrokerProcess> StartInAsync(string parentDir, params string[] extraArgs)
    {
        var dataDir = Directory.CreateDirectory(Path.Combine(parentDir, $"broker-{Guid.NewGuid():N}")).FullName;
        var broker = new BrokerProcess(dataDir, ownsDataDir: true, extraArgs);
        await broker.StartAsync();
        return broker;
    }

    /// <summary>Another build of the broker (its Broker.dll), as <see cref="StartInAsync"/>: the bench measures two builds side by side in one run.</summary>
    public static async Task<BrokerProcess> StartBuildInAsync(string brokerDll, string parentDir, params string[] extraArgs)
    {
        if (!File.Exists(brokerDll)) throw new FileNotFoundException($"No broker build at {brokerDll}.", brokerDll);
        var dataDir = Directory.CreateDirectory(Path.Combine(parentDir, $"broker-{Guid.NewGuid():N}")).FullName;
        var broker = new BrokerProcess(dataDir, ownsDataDir: true, extraArgs) { _dll = brokerDll };
        await broker.StartAsync();
        return broker;
    }

    /// <summary>A broker on an existing data folder and Kafka port (the folder is not deleted afterwards).</summary>
    public static async Task<BrokerProcess> StartOnAsync(string dataDir, int port, params string[] extraArgs)
    {
        var broker = new BrokerProcess(dataDir, ownsDataDir: false, extraArgs) { Port = port };
        await broker.StartAsync();
        return broker;
    }

    public async Task StartAsync()
    {
        if (_process is { HasExited: false }) throw new InvalidOperationException("The broker is already running.");
        // Keep the Kafka port across restarts: clients reconnect to the address they were given.
        if (Port == 0) Port = LoopbackPort.Free();
        HttpPort = LoopbackPort.Free();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(_dll is { Length: > 0 } ? _dll : BrokerDll);
        info.ArgumentList.Add($"--Broker:Port={Port}");
        info.ArgumentList.Add($"--Broker:DataDir={DataDir}");
        info.ArgumentList.Add($"--urls=http://127.0.0.1:{HttpPort}");
        // Kafka's 3 s wait for more members of a new group, shortened as in Kafka's own tests; a test's own argument, later, wins.
        info.ArgumentList.Add("--Broker:GroupInitialRebalanceDelayMs=100");
        foreach (var arg in _extraArgs) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        foreach (var (name, value) in Environment) info.Environment[name] = value;

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => OnLine(e.Data, started);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, started);
        process.Exited += (_, _) => started.TrySetException(new InvalidOperationException($"The broker exited with {SafeExitCode(process)}:\n{Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private void OnLine(string? line, TaskCompletionSource started)
    {
        if (line is null) return;
        _output.Enqueue(line);
        lock (_outputWaiters)
        {
            foreach (var waiter in _outputWaiters.Where(w => line.Contains(w.Text, StringComparison.Ordinal)).ToList())
            {
                waiter.Seen.TrySetResult();
                _outputWaiters.Remove(waiter);
            }
        }
        // Logged by the host once every listener, the Kafka port included, is bound.
        if (line.Contains("Application started", StringComparison.Ordinal)) started.TrySetResult();
    }

    /// <summary>Completes when the broker has printed a line containing <paramref name="text"/> (logging is asynchronous).</summary>
    public Task WaitForOutputAsync(string text, TimeSpan? timeout = null)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_outputWaiters)
        {
            if (_output.Any(l => l.Contains(text, StringComparison.Ordinal))) return Task.CompletedTask;
            _outputWaiters.Add((text, seen));
        }
        return seen.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10))
            .ContinueWith(t => t.IsFaulted ? throw new TimeoutException($"The broker never printed '{text}'. Output:\n{Output}") : t,
                TaskScheduler.Default).Unwrap();
    }

    /// <summary>SIGTERM and wait: the broker flushes and writes its clean-shutdown marker.</summary>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } process) return;
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>SIGKILL: no flush, no marker, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (_process is not { HasExited: false } process) return;
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        if (_ownsDataDir)
        {
            try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
        }
    }

    private static string SafeExitCode(Process process) => process.HasExited ? process.ExitCode.ToString() : "?";


    /// <summary>
    /// Broker.dll of the same configuration (Debug, Release) as the code running this, found from the
    /// repo root; <c>SHOP_BROKER_DLL</c> names another build instead (say, the previous commit's, to
    /// measure both with one bench).
    /// </summary>
    public static string BrokerDll
    {
        get
        {
            if (System.Environment.GetEnvironmentVariable("SHOP_BROKER_DLL") is { Length: > 0 } other)
            {
                return File.Exists(other) ? other : throw new FileNotFoundException($"SHOP_BROKER_DLL names {other}, which is missing.", other);
            }
            var testDir = new DirectoryInfo(AppContext.BaseDirectory); // <project>/bin/<Config>/<tfm>/
            var framework = testDir.Name;
            var configuration = testDir.Parent!.Name;
            var root = testDir;
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Shop.sln"))) root = root.Parent;
            if (root is null) throw new InvalidOperationException($"Shop.sln not found above {AppContext.BaseDirectory}");
            var dll = Path.Combine(root.FullName, "Broker", "bin", configuration, framework, "Broker.dll");
            if (!File.Exists(dll)) throw new FileNotFoundException($"Build the broker first ({configuration}): {dll} is missing.", dll);
            return dll;
        }
    }
}
