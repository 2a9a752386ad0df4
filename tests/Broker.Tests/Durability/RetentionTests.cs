using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Testing;

namespace Shop.Broker.Tests.Durability;

/// <summary>retention.bytes and retention.ms delete whole old segments and move the earliest offset.</summary>
public sealed class RetentionTests
{
    private static async Task<BrokerProcess> StartAsync() =>
        await BrokerProcess.StartAsync("--Broker:SegmentBytes=1024", "--Broker:RetentionCheckIntervalMs=100");

    private static async Task CreateTopicAsync(BrokerProcess broker, string topic, Dictionary<string, string> configs)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, Configs = configs }]);
    }

    private static async Task ProduceAsync(BrokerProcess broker, string topic, int count, DateTimeOffset? timestamp = null)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 0 }).Build();
        for (var i = 0; i < count; i++)
        {
            await producer.ProduceAsync(topic, new Message<string, string>
            {
                Key = $"k{i}", Value = $"value {i} {new string('x', 60)}",
                Timestamp = timestamp is { } t ? new Timestamp(t) : Timestamp.Default,
            });
        }
    }

    private static async Task<long> AwaitEarliestAboveZeroAsync(BrokerProcess broker, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "w" }).Build();
        return await Eventually.GetAsync(() => consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(5)).Low.Value,
            low => low > 0, _ => "retention never moved the earliest offset", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Retention_bytes_deletes_old_segments_and_old_offsets_reset_per_the_consumer_policy()
    {
        await using var broker = await StartAsync();
        await CreateTopicAsync(broker, "by-size", new() { ["retention.bytes"] = "3000" });
        await ProduceAsync(broker, "by-size", 100);

        // Retention runs in passes: one may have moved the start while the records were still coming.
        // Once it is done with them the partition holds at most retention.bytes plus the active segment.
        var folder = Path.Combine(broker.DataDir, "by-size-0");
        long LogBytes() => Directory.EnumerateFiles(folder, "*.log").Sum(f => new FileInfo(f).Length);
        await Eventually.GetAsync(LogBytes, bytes => bytes < 3000 + 1024, bytes => $"{bytes} bytes of log kept after retention", TimeSpan.FromSeconds(30));
        var earliest = await AwaitEarliestAboveZeroAsync(broker, "by-size");
        Assert.False(File.Exists(Path.Combine(folder, "00000000000000000000.log")), "the first segment is deleted");
        Assert.Equal($"{earliest:D20}.log", Directory.EnumerateFiles(folder, "*.log").Select(Path.GetFileName).Order().First());

        // A consumer at offset 0, now gone: with auto.offset.reset=earliest it resumes at the new start...
        using (var resetting = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = "resetting", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build())
        {
            resetting.Assign(new TopicPartitionOffset("by-size", 0, 0));
            var first = resetting.Consume(TimeSpan.FromSeconds(30));
            Assert.NotNull(first);
            Assert.True(first.Offset.Value >= earliest);
        }

        // ...and with auto.offset.reset=error it is told OFFSET_OUT_OF_RANGE.
        using var strict = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = "strict", AutoOffsetReset = AutoOffsetReset.Error,
        }).Build();
        strict.Assign(new TopicPartitionOffset("by-size", 0, 0));
        var error = Assert.Throws<ConsumeException>(() =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline) strict.Consume(TimeSpan.FromSeconds(1));
        });
        Assert.Equal(ErrorCode.Local_AutoOffsetReset, error.Error.Code);
    }

    [Fact]
    public async Task Retention_ms_deletes_segments_whose_records_are_all_older()
    {
        await using var broker = await StartAsync();
        await CreateTopicAsync(broker, "by-time", new() { ["retention.ms"] = "3600000" });
        await ProduceAsync(broker, "by-time", 40, DateTimeOffset.UtcNow.AddDays(-2)); // long expired
        await ProduceAsync(broker, "by-time", 40); // fresh

        var earliest = await AwaitEarliestAboveZeroAsync(broker, "by-time");
        Assert.InRange(earliest, 1, 40); // only segments of old records went
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "w" }).Build();
        Assert.Equal(80, consumer.QueryWatermarkOffsets(new TopicPartition("by-time", 0), TimeSpan.FromSeconds(5)).High.Value);
    }
}
