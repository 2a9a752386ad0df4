using Shop.Broker.Storage;

namespace Shop.Broker.Tests.Storage;

/// <summary>
/// Zeros written ahead of the active segment's end (<see cref="LogSegment.FillAhead"/>): they make
/// small fsyncs cheaper, and must never cost a record, outlive the segment, or hide a failed fsync.
/// The power-cut simulation runs with them too (PreallocateBytes drawn per seed).
/// </summary>
public sealed class ZerosAheadTests
{
    private static readonly Dictionary<string, string?> SmallSegments = new() { [TopicConfig.SegmentBytes] = "65536" };

    private static long FileLength(StorageHarness storage, LogSegment segment) =>
        storage.SimulatedDisk.Contents(LogSegment.LogPath(segment.Directory, segment.BaseOffset)).Length;

    [Fact]
    public void Zeros_fill_the_active_segment_ahead_and_are_cut_off_when_it_rolls_and_when_the_broker_stops()
    {
        using var storage = StorageHarness.Simulated();
        var log = storage.Logs.CreateTopic("t", 1, SmallSegments).Partitions[0];

        log.AppendAsync(StorageHarness.Batch("first"), durable: true);
        storage.SimulationScheduler.RunAll();

        var first = log.Segments[0];
        Assert.Equal(65536, FileLength(storage, first)); // filled up to segment.bytes (less than PreallocateBytes)
        Assert.Equal(65536 - first.Size, first.ZerosAhead);

        var big = new string('x', 4000);
        while (log.SegmentCount == 1)
        {
            log.AppendAsync(StorageHarness.Batch(big), durable: true);
            storage.SimulationScheduler.RunAll();
        }
        Assert.Equal(first.Size, FileLength(storage, first)); // the roll cut the zeros off
        var active = log.Segments[^1];
        Assert.True(FileLength(storage, active) > active.Size);

        var records = log.LogEndOffset;
        var segments = log.Segments;
        storage.Logs.Dispose(); // a clean stop
        Assert.All(segments, s => Assert.Equal(s.Size, FileLength(storage, s)));
        storage.Restart();

        var reopened = storage.Logs.Partition("t", 0);
        Assert.All(reopened.Segments, s => Assert.Equal(s.Size, FileLength(storage, s)));
        Assert.Equal(records, reopened.LogEndOffset);
        Assert.Equal("first", StorageHarness.Values(reopened.Read(0, 1 << 20).Records)[0]);
    }

    [Fact]
    public void A_power_cut_leaves_zeros_that_recovery_drops_and_every_acknowledged_record_stays()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            using var storage = StorageHarness.Simulated();
            var log = storage.Logs.CreateTopic("t", 1, SmallSegments).Partitions[0];
            var random = new Random(seed);
            var acknowledged = new List<string>();
            for (var i = 0; i < 40; i++)
            {
                var value = $"v{i}-" + new string('x', random.Next(3000));
                var append = log.AppendAsync(StorageHarness.Batch(value), durable: true).AsTask();
                if (random.Next(3) > 0) storage.SimulationScheduler.RunAll(); // else it waits with the next
                if (append.IsCompletedSuccessfully) acknowledged.Add(value);
            }
            storage.PowerCut(random); // the last fill may be half written, or written and not synced

            var reopened = storage.Logs.Partition("t", 0);
            var values = reopened.Segments.SelectMany(segment => StorageHarness.Values(reopened.Read(segment.BaseOffset, int.MaxValue).Records)).ToList();
            Assert.True(acknowledged.All(values.Contains), $"seed {seed}: {acknowledged.Except(values).Count()} acknowledged records lost");
        }
    }

    [Fact]
    public void A_failed_fsync_of_the_zeros_fails_the_durable_append_it_dropped_instead_of_acknowledging_it()
    {
        using var storage = StorageHarness.Simulated();
        storage.Options.PreallocateBytes = 8192;
        storage.Restart();
        var log = storage.Logs.CreateTopic("t", 1, SmallSegments).Partitions[0];
        log.AppendAsync(StorageHarness.Batch("durable"), durable: true);
        storage.SimulationScheduler.RunAll();
        var fsyncs = 0;
        storage.SimulatedDisk.Fault = (operation, path) =>
        {
            if (operation != "fsync" || !path.EndsWith(".log", StringComparison.Ordinal)) return null;
            return fsyncs++ == 0 ? new IOException("EIO") : null;
        };

        // Most of the zeros used up: a fill runs before the flush, and its fsync fails, which drops
        // the dirty pages of "lost" too; the flush's fsync would then "succeed" without them.
        var lost = log.AppendAsync(StorageHarness.Batch(new string('x', 5000)), durable: true).AsTask();
        storage.SimulationScheduler.RunAll();

        Assert.Equal(1, fsyncs); // the flush did not retry the file's fsync
        Assert.IsType<KafkaStorageException>(lost.Exception?.InnerException);
        Assert.NotNull(log.StorageError);
        Assert.Equal(1, log.HighWatermark);
    }

    [Fact]
    public void No_zeros_are_written_under_FlushPolicy_Interval_or_with_PreallocateBytes_0()
    {
        foreach (var configure in new Action<Shop.Broker.BrokerOptions>[] { o => o.FlushPolicy = Shop.Broker.FlushPolicy.Interval, o => o.PreallocateBytes = 0 })
        {
            using var storage = StorageHarness.Simulated();
            configure(storage.Options);
            storage.Restart();
            var log = storage.Logs.CreateTopic("t", 1, SmallSegments).Partitions[0];

            log.AppendAsync(StorageHarness.Batch("a"), durable: true);
            storage.SimulationScheduler.RunAll();
            log.Flush();

            Assert.Equal(log.Segments[0].Size, FileLength(storage, log.Segments[0]));
        }
    }
}
