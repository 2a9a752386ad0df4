using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Testing;

namespace Shop.Broker.Tests.Durability;

/// <summary>
/// Under FlushPolicy=always consumers see only what is fsynced: a record a power cut could take back
/// is never handed to a consumer. Shown with real clients against the broker process, every fsync
/// slowed to 400 ms (Broker:TestFsyncDelayMs).
/// </summary>
public sealed class VisibilityTests
{
    private static readonly TimeSpan FsyncDelay = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task An_acks_1_record_is_answered_at_once_but_fetched_only_after_an_fsync_covers_it()
    {
        await using var broker = await BrokerProcess.StartAsync($"--Broker:TestFsyncDelayMs={FsyncDelay.TotalMilliseconds}");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "visible", NumPartitions = 1 }]);
        }
        var clock = Stopwatch.StartNew();
        var received = new ConcurrentDictionary<string, TimeSpan>();
        using var stop = new CancellationTokenSource();
        var consumer = Task.Run(() =>
        {
            using var c = new ConsumerBuilder<Null, string>(new ConsumerConfig
            {
                BootstrapServers = broker.BootstrapServers, GroupId = "watcher", EnableAutoCommit = false, FetchWaitMaxMs = 50,
            }).Build();
            c.Assign(new TopicPartitionOffset("visible", 0, Offset.Beginning));
            while (!stop.IsCancellationRequested)
            {
                if (c.Consume(TimeSpan.FromMilliseconds(100)) is { } record) received[record.Message.Value] = clock.Elapsed;
            }
        });

        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers, Acks = Acks.Leader, LingerMs = 0,
        }).Build();
        // Warm up: both clients connected and the consumer polling before anything is timed.
        await producer.ProduceAsync("visible", new Message<Null, string> { Value = "warm-up" });
        await Eventually.TrueAsync(() => received.ContainsKey("warm-up"), "the consumer got the warm-up record", interval: TimeSpan.FromMilliseconds(20));

        var sent = new Dictionary<string, (TimeSpan Sent, TimeSpan Answered)>();
        for (var i = 0; i < 10; i++)
        {
            var value = $"r{i}";
            var start = clock.Elapsed;
            await producer.ProduceAsync("visible", new Message<Null, string> { Value = value });
            sent[value] = (start, clock.Elapsed);
        }
        try
        {
            // received also holds the warm-up record: wait for every one sent besides it.
            await Eventually.TrueAsync(() => received.Count >= sent.Count + 1, $"the consumer got all {sent.Count} records",
                TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(20));
        }
        finally
        {
            await stop.CancelAsync();
            await consumer;
        }

        Assert.Equal(sent.Keys.Append("warm-up").Order(), received.Keys.Order());
        foreach (var (value, (start, answered)) in sent)
        {
            // The write, then a whole (slowed) fsync, came between sending a record and any consumer seeing it.
            Assert.True(received[value] - start >= FsyncDelay,
                $"{value} was fetched {(received[value] - start).TotalMilliseconds:F0} ms after it was sent, before the {FsyncDelay.TotalMilliseconds} ms fsync covering it");
            Assert.True(answered < received[value], $"{value}: acks=1 must be answered before the record is durable, not after");
        }
    }
}
