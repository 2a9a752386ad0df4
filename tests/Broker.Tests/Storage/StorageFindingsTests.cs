using Microsoft.Extensions.Time.Testing;
using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Tests.Storage;

/// <summary>
/// One test per durability finding that is a race or a single mistake rather than a property the
/// power-cut simulation covers: each failed before its fix.
/// </summary>
public sealed class StorageFindingsTests
{
    private static readonly Dictionary<string, string?> NoConfigs = [];

    [Fact]
    public void A_record_is_invisible_to_fetches_until_an_fsync_covers_it_whatever_its_acks()
    {
        using var storage = StorageHarness.Simulated();
        var log = storage.Logs.CreateTopic("t", 1, NoConfigs).Partitions[0];

        var appended = log.AppendAsync(StorageHarness.Batch("a", "b"), durable: false);

        Assert.True(appended.IsCompletedSuccessfully); // acks=1 is answered at once
        Assert.Equal(2, log.LogEndOffset);
        Assert.Equal(0, log.HighWatermark);
        Assert.True(log.Read(0, 1 << 20).Records.IsEmpty);
        storage.SimulationScheduler.RunAll(); // the group commit the append scheduled
        Assert.Equal(2, log.HighWatermark);
        Assert.Equal(["a", "b"], StorageHarness.Values(log.Read(0, 1 << 20).Records));
    }

    [Fact]
    public async Task A_long_poll_fetch_wakes_for_a_record_made_visible_between_its_read_and_its_wait()
    {
        var time = new RaceClock(); // the fetch's clock only; the log keeps the system's
        using var storage = StorageHarness.Real();
        var log = storage.Logs.CreateTopic("t", 1, NoConfigs).Partitions[0];
        // The clock is read after the fetch's first (empty) read and before it starts waiting: the
        // record becomes durable, and visible, exactly in that gap.
        time.OnSecondRead = () => log.AppendAsync(StorageHarness.Batch("late"), durable: true).AsTask().GetAwaiter().GetResult();

        using var testTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var outcome = await LongPollFetch.ReadAsync([new FetchTarget(log, 0, 1 << 20)], 1 << 20, minBytes: 1,
            maxWait: TimeSpan.FromMinutes(10), time, testTimeout.Token);

        Assert.Equal(["late"], StorageHarness.Values(outcome[0].Records));
        FetchOutcome.Release(outcome);
    }

    private sealed class RaceClock : TimeProvider
    {
        private int _reads;

        public Action? OnSecondRead { get; set; }

        public override DateTimeOffset GetUtcNow()
        {
            if (Interlocked.Increment(ref _reads) == 2) OnSecondRead?.Invoke();
            return System.GetUtcNow();
        }
    }

    [Fact]
    public async Task A_fetch_holding_a_segment_keeps_reading_it_while_compaction_replaces_it()
    {
        using var storage = StorageHarness.Real();
        var log = storage.Logs.CreateTopic("c", 1, new Dictionary<string, string?>
        {
            [TopicConfig.CleanupPolicy] = "compact",
            [TopicConfig.SegmentBytes] = "1024",
        }).Partitions[0];
        for (var i = 0; i < 40; i++) await log.AppendAsync(StorageHarness.Batch($"v{i % 4}"), durable: true);
        var first = log.Segments[0];
        Assert.True(first.TryAcquire()); // a fetch in the middle of reading the oldest segment

        var removed = LogCleaner.Clean(log, DateTimeOffset.UtcNow, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.True(removed > 0);
        Assert.NotSame(first, log.Segments[0]);
        Assert.NotEmpty(first.Read(0, 1 << 20, long.MaxValue, minOneBatch: true).AsEnumerable()); // still open for its reader
        first.Release();
        Assert.False(first.TryAcquire()); // closed once the last reader let go
        Assert.NotEmpty(StorageHarness.Values(log.Read(0, 1 << 20).Records)); // new reads see the compacted segment
    }

    [Fact]
    public async Task A_fetch_answer_not_yet_written_still_carries_its_records_after_DeleteRecords_removed_their_segment()
    {
        using var storage = StorageHarness.Real();
        var log = storage.Logs.CreateTopic("d", 1, new Dictionary<string, string?> { [TopicConfig.SegmentBytes] = "1024" }).Partitions[0];
        for (var i = 0; i < 40; i++) await log.AppendAsync(StorageHarness.Batch($"v{i}"), durable: true);
        // A fetch located its records (read later, straight into the socket's memory)...
        var fetched = log.Read(0, 300, deferred: true);
        Assert.NotNull(fetched.Owner);

        // ...then, before its answer goes out, DeleteRecords removes (and closes) their segment.
        var first = log.Segments[0];
        log.DeleteRecordsBefore(-1);
        Assert.Equal(40, log.LogStartOffset);
        Assert.DoesNotContain(first, log.Segments);

        var values = StorageHarness.Values(fetched.Records); // the answer being written
        Assert.NotEmpty(values);
        Assert.Equal(Enumerable.Range(0, values.Count).Select(i => $"v{i}"), values);
        fetched.Owner!.Dispose();
    }

    [Fact]
    public async Task Deleting_a_topic_stops_its_appends_and_no_write_is_acknowledged_after_it()
    {
        using var storage = StorageHarness.Real();
        var log = storage.Logs.CreateTopic("doomed", 1, NoConfigs).Partitions[0];
        using var stop = new CancellationTokenSource();
        var acknowledgedAfterDelete = 0;
        var deleted = false;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var startedAfterDelete = Volatile.Read(ref deleted);
                    await log.AppendAsync(StorageHarness.Batch("x"), durable: true);
                    if (startedAfterDelete) acknowledgedAfterDelete++;
                }
                catch (Exception ex) when (ex is PartitionClosedException or KafkaStorageException)
                {
                    return;
                }
            }
        });
        while (log.LogEndOffset < 20) await Task.Yield();

        Assert.True(storage.Logs.DeleteTopic("doomed"));
        Volatile.Write(ref deleted, true);
        await writer.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, acknowledgedAfterDelete);
        Assert.False(Directory.Exists(log.Directory));
        await Assert.ThrowsAsync<PartitionClosedException>(async () => await log.AppendAsync(StorageHarness.Batch("late"), durable: false));
        Assert.Equal(0, storage.Logs.CreateTopic("doomed", 1, NoConfigs).Partitions[0].LogEndOffset);
    }

    [Fact]
    public void Internal_topics_cannot_be_deleted()
    {
        using var storage = StorageHarness.Simulated();
        storage.Logs.CreateTopic("__consumer_offsets", 1, NoConfigs);

        Assert.Throws<InternalTopicException>(() => storage.Logs.DeleteTopic("__consumer_offsets"));
        Assert.True(storage.Logs.TryGetTopic("__consumer_offsets", out _));
    }

    [Fact]
    public void A_failed_fsync_makes_the_partition_read_only_and_the_restart_cuts_back_to_what_is_durable()
    {
        using var storage = StorageHarness.Simulated();
        var log = storage.Logs.CreateTopic("t", 1, NoConfigs).Partitions[0];
        log.AppendAsync(StorageHarness.Batch("durable"), durable: false);
        storage.SimulationScheduler.RunAll();
        var failFsync = true;
        storage.SimulatedDisk.Fault = (operation, path) =>
            operation == "fsync" && failFsync && path.EndsWith(".log", StringComparison.Ordinal) ? new IOException("EIO") : null;

        var lost = log.AppendAsync(StorageHarness.Batch("lost"), durable: true).AsTask();
        storage.SimulationScheduler.RunAll();
        failFsync = false;

        Assert.IsType<KafkaStorageException>(lost.Exception?.InnerException);
        Assert.NotNull(log.StorageError);
        Assert.Equal(1, log.HighWatermark); // "lost" never became visible
        Assert.Throws<KafkaStorageException>(() => log.AppendAsync(StorageHarness.Batch("refused"), durable: false).AsTask().GetAwaiter().GetResult());
        // A retried fsync would "succeed" without the dropped pages: the restart must not trust the page cache.
        storage.Crash();
        var reopened = storage.Logs.Partition("t", 0);
        Assert.Null(reopened.StorageError);
        Assert.Equal(1, reopened.LogEndOffset);
        Assert.Equal(["durable"], StorageHarness.Values(reopened.Read(0, 1 << 20).Records));
        reopened.AppendAsync(StorageHarness.Batch("again"), durable: false);
        storage.SimulationScheduler.RunAll();
        Assert.Equal(["durable", "again"], StorageHarness.Values(reopened.Read(0, 1 << 20).Records));
    }

    [Fact]
    public void A_topic_with_unreadable_metadata_is_refused_by_name_and_the_others_are_served()
    {
        using var storage = StorageHarness.Simulated();
        storage.Logs.CreateTopic("good", 1, NoConfigs).Partitions[0].AppendAsync(StorageHarness.Batch("kept"), durable: false);
        storage.Logs.CreateTopic("bad", 1, new Dictionary<string, string?> { [TopicConfig.CleanupPolicy] = "compact" });
        storage.SimulationScheduler.RunAll();
        storage.Logs.Dispose();
        using (var metadata = storage.Disk.Open("/sim/data/bad-0/topic.json", FileMode.Create)) metadata.Write("{ not json"u8, 0);

        storage.Restart();

        Assert.True(storage.Logs.TryGetTopic("good", out var good));
        Assert.Equal(["kept"], StorageHarness.Values(good.Partitions[0].Read(0, 1 << 20).Records));
        Assert.False(storage.Logs.TryGetTopic("bad", out _));
        Assert.Contains("/sim/data/bad-0/topic.json", storage.Logs.UnavailableTopics["bad"]);
        // Not silently replaced by a new topic with default configs (a compacted topic would start deleting):
        var refused = Assert.Throws<TopicUnavailableException>(() => storage.Logs.CreateTopic("bad", 1, NoConfigs));
        Assert.Contains("topic.json", refused.Message);
    }

    [Fact]
    public void A_creation_cut_short_is_cleared_at_start_even_when_its_log_holds_zeros_written_ahead()
    {
        using var storage = StorageHarness.Simulated();
        storage.Logs.CreateTopic("half", 1, NoConfigs);
        storage.SimulationScheduler.RunAll();
        storage.Logs.Dispose();
        // As a creation cut short before topic.json, with a log that holds only zeros (as written ahead of a log's end).
        storage.Disk.DeleteFile("/sim/data/half-0/topic.json");
        var log = storage.Disk.FileNames("/sim/data/half-0").Single(n => n.EndsWith(".log", StringComparison.Ordinal));
        using (var file = storage.Disk.Open($"/sim/data/half-0/{log}", FileMode.Open)) file.Write(new byte[4096], 0);

        storage.Restart();

        Assert.False(storage.Logs.TryGetTopic("half", out _));
        Assert.Empty(storage.Logs.UnavailableTopics);
        Assert.False(storage.Disk.DirectoryExists("/sim/data/half-0"));
        storage.Logs.CreateTopic("half", 1, NoConfigs); // the name is free again
    }

    [Fact]
    public void Producer_ids_are_never_handed_out_twice_across_restarts_and_power_cuts()
    {
        using var storage = StorageHarness.Simulated();
        var handedOut = new HashSet<long>();
        var random = new Random(7);
        for (var run = 0; run < 5; run++)
        {
            for (var i = 0; i < 1500; i++) Assert.True(handedOut.Add(storage.Logs.ProducerIds.Allocate()));
            storage.Logs.Abandon();
            storage.SimulatedDisk.PowerCut(random);
            storage.Restart();
        }
    }

    [Fact]
    public void New_producer_ids_start_above_those_in_the_logs_written_before_ids_were_persisted()
    {
        using var storage = StorageHarness.Simulated();
        var log = storage.Logs.CreateTopic("t", 1, NoConfigs).Partitions[0];
        var clockBasedId = 1_790_000_000_000L; // what the broker used to hand out
        log.AppendAsync(RecordBatchBuilder.Build([new KeyValueRecord(null, [1])], 0, (clockBasedId, 0, 0)), durable: false);
        storage.SimulationScheduler.RunAll();

        storage.Restart();

        Assert.True(storage.Logs.ProducerIds.Allocate() > clockBasedId);
    }

    [Fact]
    public void An_idle_producer_is_forgotten_after_producer_id_expiration_ms()
    {
        using var storage = StorageHarness.Simulated();
        var clock = (FakeTimeProvider)storage.Time;
        var log = storage.Logs.CreateTopic("t", 1, NoConfigs).Partitions[0];
        log.AppendAsync(RecordBatchBuilder.Build([new KeyValueRecord(null, [1])], clock.GetUtcNow().ToUnixTimeMilliseconds(), (42, 0, 0)), durable: false);
        Assert.Equal(1, log.ProducerCount);

        clock.Advance(TimeSpan.FromMilliseconds(storage.Options.ProducerIdExpirationMs - 1));
        storage.Logs.CleanUpAll();
        Assert.Equal(1, log.ProducerCount);
        clock.Advance(TimeSpan.FromMilliseconds(2));
        storage.Logs.CleanUpAll();
        Assert.Equal(0, log.ProducerCount);
    }
}
