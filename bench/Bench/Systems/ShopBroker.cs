using System.Diagnostics;

namespace Shop.Bench.Systems;

/// <summary>Our broker as its own process, from its Release build, on a free port with a fresh data folder.</summary>
public sealed class ShopBroker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDir;

    private ShopBroker(Process process, int port, string dataDir)
    {
        _process = process;
        Port = port;
        _dataDir = dataDir;
    }

    public int Port { get; }

    public string BootstrapServers => $"localhost:{Port}";

    public int ProcessId => _process.Id;

    public static async Task<ShopBroker> StartAsync(string scratchDir, params string[] extraArgs)
    {
        // BENCH_BROKER_DLL measures another build (say, the previous commit's) with the same bench.
        var dll = Environment.GetEnvironmentVariable("BENCH_BROKER_DLL") is { Length: > 0 } other
            ? other
            : Path.Combine(RepoRoot(), "Broker", "bin", "Release", "net10.0", "Broker.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is missing: build with -c Release", dll);
        var port = ServerProcess.FreePort();
        var dataDir = Path.Combine(scratchDir, $"broker-{Guid.NewGuid():N}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[dll, $"--Broker:Port={port}", $"--Broker:DataDir={dataDir}", $"--urls=http://127.0.0.1:{ServerProcess.FreePort()}",
                     "--Logging:LogLevel:Default=Warning", .. extraArgs])
        {
            info.ArgumentList.Add(arg);
        }
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var broker = new ShopBroker(process, port, dataDir);
        try
        {
            // With warnings-only logging no start-up line comes: the port answering is the signal.
            await ServerProcess.WaitForPortAsync(process, port, TimeSpan.FromSeconds(60), "run it by hand to see why");
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }
        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shop.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Shop.sln not found above the bench");
    }
}
