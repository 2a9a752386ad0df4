using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Bench.Systems;

namespace Shop.Bench.Workloads;

/// <summary>
/// The broker's own ceiling, measured with a client that costs next to nothing (<see cref="WireConnection"/>:
/// pre-encoded batches, many requests in flight): durable produce beside the disk's
/// <c>dd conv=fdatasync</c>, 16 KB batches under <c>always</c> beside <c>interval</c>, reading a backlog
/// beside loopback TCP, bytes the broker allocates per byte moved and its gen2 collections (from its
/// own runtime counters), and produce latency over a run that rolls segments beside the disk's fsync.
/// With <c>SHOP_BROKER_BEFORE_DLL</c> set to another build's Broker.dll, that build is measured first,
/// in the same run, as "shop broker (before)".
/// </summary>
public sealed class WireWorkloads : IWorkload
{
    private const string System = "shop broker";

    public string Name => "wire";

    public string Description => "our broker at the wire (pre-encoded batches, requests in flight): its own ceiling";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchSettings settings, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var figures = new List<Figure>();
        if (Environment.GetEnvironmentVariable("SHOP_BROKER_BEFORE_DLL") is { Length: > 0 } before)
        {
            figures.AddRange(await MeasureAsync(settings, progress, $"{System} (before)", before, cancellationToken));
        }
        figures.AddRange(await MeasureAsync(settings, progress, System, null, cancellationToken));
        return figures;
    }

    private async Task<List<Figure>> MeasureAsync(BenchSettings settings, IProgress<string> progress, string system, string? dll, CancellationToken cancellationToken)
    {
        var figures = new List<Figure>();
        var duration = settings.Scale(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(0.5));
        var dd = settings.Find(MachineLimits.WorkloadName, "sequential write + fdatasync");
        var tcp = settings.Find(MachineLimits.WorkloadName, "TCP bandwidth");
        var fsync = settings.Find(MachineLimits.WorkloadName, "4 KiB append + fdatasync p99.9");
        void Add(string metric, double value, string unit, Figure? reference = null, double? ratio = null, string? target = null, bool? met = null) =>
            figures.Add(new Figure(Name, system, metric, value, unit, reference?.Metric, ratio, target, met));

        double durable16k;
        await using (var broker = await StartAsync(settings, dll, "--Broker:FlushPolicy=Always"))
        {
            await CreateTopicsAsync(broker, cancellationToken,
                ("warm-up", 1, null), ("durable-1m", 1, null), ("durable-16k", 1, null), ("small", 4, null), ("rolling", 1, 4 << 20), ("steady", 1, 1 << 30),
                ("e2e-always", 1, null));
            // Latency first, while the disk is not yet writing back what the throughput runs leave behind;
            // after a warm-up, so that the broker's JIT and thread pool settle before anything is timed
            // (without it the first run, whichever it was, showed 2-3 x the p99.9 of the second).
            progress.Report($"{system}: warm-up, 16 KB batches one at a time, acks=all");
            await ProduceAsync(broker, "warm-up", Batches(1, 16_384, 1024), -1, 1, duration / 2, cancellationToken);
            progress.Report($"{system}: produce latency, 16 KB batches one at a time, acks=all, segments of 4 MiB");
            var rolling = await ProduceAsync(broker, "rolling", Batches(1, 16_384, 1024), -1, 1, duration, cancellationToken);
            Add("durable produce latency p50 (rolling segments)", rolling.Latency.Percentile(50), "µs");
            Add("durable produce latency p99 (rolling segments)", rolling.Latency.Percentile(99), "µs");
            var p999 = rolling.Latency.Percentile(99.9);
            var fsyncRatio = fsync is null ? (double?)null : p999 / fsync.Value;
            Add("durable produce latency p99.9 (rolling segments)", p999, "µs", fsync, fsyncRatio, "≤ 3", fsyncRatio <= 3);
            Add("segments rolled during the latency run", rolling.Bytes / (4 << 20), "segments");

            progress.Report($"{system}: the same with segments of 1 GiB (no roll): what the rolls add");
            var steady = await ProduceAsync(broker, "steady", Batches(1, 16_384, 1024), -1, 1, duration, cancellationToken);
            Add("durable produce latency p99 (no roll)", steady.Latency.Percentile(99), "µs");
            Add("durable produce latency p99.9 (no roll)", steady.Latency.Percentile(99.9), "µs");

            // A fixed volume, beside dd conv=fdatasync of the same volume just before and just after, and the
            // `machine` figure (512 MiB): the reference is the fastest of the three. A buffered write's bandwidth
            // here depends on its volume (the page cache, not the disk: see DirectWrite), so each alone may flatter.
            var kib = Batches(1, 1_000_000, 1024);
            var volume = settings.Scale(3L << 30, 256L << 20);
            progress.Report($"{system}: dd conv=fdatasync of {volume >> 20} MiB, a reference before the 1 MB run");
            var ddBefore = MachineLimits.DurableWrite(settings.ScratchDir, volume);
            progress.Report($"{system}: produce {volume >> 20} MiB of 1 KiB records, acks=all, flush always, 1 MB batches, 8 in flight");
            var (big, bigUse) = await WithRuntimeAsync(broker,
                () => ProduceAsync(broker, "durable-1m", kib, -1, 8, TimeSpan.FromMinutes(2), cancellationToken, volume), cancellationToken);
            progress.Report($"{system}: dd conv=fdatasync of {volume >> 20} MiB, a reference after the 1 MB run");
            var ddAfter = MachineLimits.DurableWrite(settings.ScratchDir, volume);
            Add("write + fdatasync of the 1 MB run's volume, just before it", ddBefore, "MB/s");
            Add("write + fdatasync of the 1 MB run's volume, just after it", ddAfter, "MB/s");
            progress.Report($"{system}: the same volume with O_DIRECT (dd oflag=direct conv=fdatasync): the disk without the page cache");
            Add("write + fdatasync of the 1 MB run's volume, O_DIRECT (no page cache)", MachineLimits.DirectWrite(settings.ScratchDir, volume), "MB/s");
            var disk = Math.Max(Math.Max(ddBefore, ddAfter), dd?.Value ?? 0);
            var ddRatio = big.MegabytesPerSecond / disk;
            figures.Add(new Figure(Name, system, "durable produce 1 KiB, 1 MB batches", big.MegabytesPerSecond, "MB/s",
                "dd conv=fdatasync, the fastest in the run", ddRatio, "≥ 0.8", ddRatio >= 0.8,
                $"{volume >> 20} MiB against dd of {disk:N0} MB/s, the fastest of: 512 MiB in `machine` {dd?.Value:N0}, {volume >> 20} MiB just before {ddBefore:N0}, just after {ddAfter:N0}"));
            AddAllocation(Add, "durable produce 1 KiB", bigUse, big.Bytes);

            progress.Report($"{system}: produce 1 KiB, acks=all, flush always, 16 KB batches, 5 in flight (the Java client's defaults)");
            var small16 = await ProduceAsync(broker, "durable-16k", Batches(1, 16_384, 1024), -1, 5, duration, cancellationToken);
            durable16k = small16.MegabytesPerSecond;

            progress.Report($"{system}: produce 100 B, acks=1, 4 partitions, 256 KB batches, 8 in flight");
            var hundred = await ProduceAsync(broker, "small", Batches(4, 256 << 10, 100), 1, 8, duration, cancellationToken);
            Add("produce 100 B, acks=1, 4 partitions", hundred.RecordsPerSecond, "records/s");

            // Warm-up, as for latency: a quarter of the backlog, so that the fetch path is compiled
            // (tier-1 JIT) before it is timed, not while (the JIT took 13 % of the broker's samples).
            progress.Report($"{system}: warm-up, consume a quarter of the 1 KiB backlog");
            await ConsumeAsync(broker, "durable-1m", big.Records / 4, cancellationToken);
            progress.Report($"{system}: consume the 1 KiB backlog ({big.Bytes >> 20} MiB), one fetch in flight");
            var (read, readUse) = await WithRuntimeAsync(broker, () => ConsumeAsync(broker, "durable-1m", big.Records, cancellationToken), cancellationToken);
            var tcpRatio = tcp is null ? (double?)null : read.MegabytesPerSecond / tcp.Value;
            Add("consume 1 KiB backlog", read.MegabytesPerSecond, "MB/s", tcp, tcpRatio, "≥ 0.5", tcpRatio >= 0.5);
            AddAllocation(Add, "consume 1 KiB", readUse, read.Bytes);

            progress.Report($"{system}: consume partition 0 of the 100 B backlog");
            var readSmall = await ConsumeAsync(broker, "small", hundred.Records / 4, cancellationToken);
            Add("consume 100 B backlog", readSmall.RecordsPerSecond, "records/s", null, null, "≥ 3,000,000", readSmall.RecordsPerSecond >= 3_000_000);

            progress.Report($"{system}: end-to-end latency at {PeerWorkloads.FixedRate:N0} records/s, our own frames both ends (visible after fsync)");
            var synced = await EndToEndAsync(broker, "e2e-always", duration, cancellationToken);
            Add($"{EndToEnd} p50 at {PeerWorkloads.FixedRate:N0}/s", synced.Percentile(50), "µs");
            Add($"{EndToEnd} p99 at {PeerWorkloads.FixedRate:N0}/s", synced.Percentile(99), "µs");
        }

        await using (var broker = await StartAsync(settings, dll, "--Broker:FlushPolicy=Interval"))
        {
            await CreateTopicsAsync(broker, cancellationToken, ("interval-16k", 1, null), ("interval-latency", 1, 1 << 30), ("e2e-interval", 1, null));
            progress.Report($"{system}: produce latency under flush interval (answered before fsync): what the fsync adds");
            var unsynced = await ProduceAsync(broker, "interval-latency", Batches(1, 16_384, 1024), -1, 1, duration, cancellationToken);
            Add("produce latency p99 under flush interval", unsynced.Latency.Percentile(99), "µs");
            Add("produce latency p99.9 under flush interval", unsynced.Latency.Percentile(99.9), "µs");
            progress.Report($"{system}: produce 1 KiB, acks=all, flush interval, 16 KB batches, 5 in flight");
            var interval = await ProduceAsync(broker, "interval-16k", Batches(1, 16_384, 1024), -1, 5, duration, cancellationToken);
            var ratio = durable16k / interval.MegabytesPerSecond;
            figures.Add(new Figure(Name, system, "durable produce 1 KiB, 16 KB batches", durable16k, "MB/s",
                "same under flush interval", ratio, "≥ 0.7", ratio >= 0.7, $"interval: {interval.MegabytesPerSecond:N0} MB/s"));

            progress.Report($"{system}: end-to-end latency at {PeerWorkloads.FixedRate:N0} records/s, our own frames both ends, flush interval (visible once written)");
            var visibleOnWrite = await EndToEndAsync(broker, "e2e-interval", duration, cancellationToken);
            Add($"{EndToEnd} p50 at {PeerWorkloads.FixedRate:N0}/s, flush interval", visibleOnWrite.Percentile(50), "µs");
            Add($"{EndToEnd} p99 at {PeerWorkloads.FixedRate:N0}/s, flush interval", visibleOnWrite.Percentile(99), "µs");
        }
        return figures;
    }

    /// <summary>The metric name of the end-to-end rows: produce to fetch with our own frames at both ends.</summary>
    public const string EndToEnd = "end-to-end (wire clients)";

    /// <summary>
    /// A pacer process sends one record per Produce request with our own frames (<see cref="WirePublisher"/>);
    /// here one long-poll fetch at a time follows the partition (<see cref="WireConnection.FollowAsync"/>):
    /// latency = the fetch answer's arrival − the send timestamp. What the broker adds, without librdkafka's
    /// queues and threads at either end.
    /// </summary>
    internal static async Task<LatencySamples> EndToEndAsync(BrokerProcess broker, string topic, TimeSpan duration, CancellationToken cancellationToken)
    {
        var total = (long)(PeerWorkloads.FixedRate * duration.TotalSeconds);
        var samples = new LatencySamples((int)total);
        await using var follower = await WireConnection.ConnectAsync(broker.Port, cancellationToken);
        var expected = total + PacerProcess.Untimed(PeerWorkloads.FixedRate, duration);
        var following = Task.Run(() => follower.FollowAsync(topic, expected, (sent, now) =>
        {
            if (!PacerProcess.IsWarmUp(sent)) samples.Add(sent, now);
        }, duration + TimeSpan.FromSeconds(60), cancellationToken), cancellationToken);
        await PacerProcess.RunAsync("wire", broker.Port.ToString(global::System.Globalization.CultureInfo.InvariantCulture), topic, persistent: false,
            PeerWorkloads.FixedRate, duration, cancellationToken);
        var received = await following;
        if (received != expected) throw new InvalidOperationException($"end-to-end at the wire: received {received} of {expected} (with the warm-up records)");
        return samples;
    }

    private static void AddAllocation(Action<string, double, string, Figure?, double?, string?, bool?> add, string what, RuntimeUse use, long bytesMoved)
    {
        var perByte = (double)use.AllocatedBytes / Math.Max(1, bytesMoved);
        add($"{what}: bytes allocated per byte", perByte, "B/B", null, null, "≤ 0.05", perByte <= 0.05);
        add($"{what}: gen2 collections", use.Gen2PerSecond, "/s", null, null, "≤ 1", use.Gen2PerSecond <= 1);
        add($"{what}: GC pause", use.GcPauseShare * 100, "% of time", null, null, null, null);
        add($"{what}: broker CPU", use.CpuCores * 100, "% of a core", null, null, null, null);
    }

    private static Task<BrokerProcess> StartAsync(BenchSettings settings, string? dll, params string[] args)
    {
        string[] all = [.. BrokerWorkloads.QuietBroker, .. args];
        return dll is null ? BrokerProcess.StartInAsync(settings.ScratchDir, all) : BrokerProcess.StartBuildInAsync(dll, settings.ScratchDir, all);
    }

    private static async Task<(T Result, RuntimeUse Use)> WithRuntimeAsync<T>(BrokerProcess broker, Func<Task<T>> run, CancellationToken cancellationToken)
    {
        var before = await RuntimeCounters.ReadAsync(broker, cancellationToken);
        var watch = global::System.Diagnostics.Stopwatch.StartNew();
        var result = await run();
        var elapsed = watch.Elapsed;
        var after = await RuntimeCounters.ReadAsync(broker, cancellationToken);
        return (result, after.Since(before, elapsed));
    }

    private static byte[][] Batches(int partitions, int batchBytes, int valueSize)
    {
        var batch = WireConnection.RecordBatch(WireConnection.RecordsPerBatch(batchBytes, valueSize), valueSize);
        return Enumerable.Repeat(batch, partitions).ToArray();
    }

    private static async Task<ProduceRun> ProduceAsync(BrokerProcess broker, string topic, byte[][] batches, short acks, int window, TimeSpan duration,
        CancellationToken cancellationToken, long maxBytes = long.MaxValue)
    {
        await using var connection = await WireConnection.ConnectAsync(broker.Port, cancellationToken);
        return await connection.ProduceAsync(topic, batches, acks, window, duration, cancellationToken, maxBytes);
    }

    private static async Task<ConsumeRun> ConsumeAsync(BrokerProcess broker, string topic, long endOffset, CancellationToken cancellationToken)
    {
        await using var connection = await WireConnection.ConnectAsync(broker.Port, cancellationToken);
        return await connection.ConsumeAsync(topic, endOffset, 8 << 20, cancellationToken);
    }

    internal static async Task CreateTopicsAsync(BrokerProcess broker, CancellationToken cancellationToken, params (string Name, int Partitions, int? SegmentBytes)[] topics)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        await admin.CreateTopicsAsync(topics.Select(t => new TopicSpecification
        {
            Name = t.Name,
            NumPartitions = t.Partitions,
            ReplicationFactor = 1,
            Configs = t.SegmentBytes is { } bytes ? new Dictionary<string, string> { ["segment.bytes"] = bytes.ToString() } : null,
        }));
        cancellationToken.ThrowIfCancellationRequested();
    }
}
