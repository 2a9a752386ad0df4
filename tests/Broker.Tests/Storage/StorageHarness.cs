using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Shop.Broker.Protocol;
using Shop.Broker.Storage;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Tests.Storage;

/// <summary>A LogManager in process for targeted storage tests: on a simulated disk (one thread) or on the real one (real threads).</summary>
internal sealed class StorageHarness : IDisposable
{
    private readonly string? _tempDir;

    private StorageHarness(IDisk disk, string dataDir, TimeProvider time, StorageScheduler scheduler, string? tempDir)
    {
        Disk = disk;
        Time = time;
        Scheduler = scheduler;
        _tempDir = tempDir;
        Options = new BrokerOptions { DataDir = dataDir, RetentionCheckIntervalMs = 3_600_000 };
        Logs = Open();
    }

    public IDisk Disk { get; }

    public TimeProvider Time { get; }

    public StorageScheduler Scheduler { get; }

    public BrokerOptions Options { get; }

    public LogManager Logs { get; private set; }

    /// <summary>Simulated disk, fake clock, flushes only when <see cref="SimulationScheduler.RunAll"/> is called.</summary>
    public static StorageHarness Simulated() =>
        new(new SimulatedDisk("/sim"), "/sim/data", new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)), new SimulationScheduler(), null);

    /// <summary>The real disk in a temporary folder, the thread pool, and the given clock.</summary>
    public static StorageHarness Real(TimeProvider? time = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), "shop-storage-" + Guid.NewGuid().ToString("N")[..8]);
        return new StorageHarness(new PhysicalDisk(), Path.Combine(dir, "data"), time ?? TimeProvider.System, StorageScheduler.Default, dir);
    }

    public SimulatedDisk SimulatedDisk => (SimulatedDisk)Disk;

    public SimulationScheduler SimulationScheduler => (SimulationScheduler)Scheduler;

    private LogManager Open() => new(new LogContext(Disk, Options, Time, Scheduler, NullLoggerFactory.Instance));

    /// <summary>A clean stop and start.</summary>
    public void Restart()
    {
        Logs.Dispose();
        Logs = Open();
    }

    /// <summary>kill -9 (simulated disk only): nothing is closed, the page cache stays.</summary>
    public void Crash() => RestartAfter(SimulatedDisk.Crash);

    /// <summary>A power cut (simulated disk only): only what was fsynced stays, and a random prefix of the rest.</summary>
    public void PowerCut(Random random) => RestartAfter(() => SimulatedDisk.PowerCut(random));

    /// <summary>Drops the logs without closing anything and the background work not yet run, lets the disk lose what it loses, and starts again.</summary>
    private void RestartAfter(Action lose)
    {
        Logs.Abandon();
        SimulationScheduler.Forget();
        lose();
        Logs = Open();
    }

    public static byte[] Batch(params string[] values) => Batch(0, values);

    public static byte[] Batch(long timestamp, params string[] values) =>
        RecordBatchBuilder.Build(values.Select(v => new KeyValueRecord(System.Text.Encoding.UTF8.GetBytes("k-" + v), System.Text.Encoding.UTF8.GetBytes(v))).ToList(), timestamp);

    public static List<string> Values(ReadOnlyMemory<byte> batches) =>
        RecordBatchBuilder.ReadRecords(batches).Select(r => System.Text.Encoding.UTF8.GetString(r.Record.Value!)).ToList();

    public void Dispose()
    {
        Logs.Dispose();
        if (_tempDir is not null) Directory.Delete(_tempDir, recursive: true);
    }
}
