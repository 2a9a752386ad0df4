using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Testing;

namespace Shop.Broker.Tests.Durability;

/// <summary>What the broker must see inside batches, compressed with every codec: compaction and offsets by time.</summary>
public sealed class CompressedBatchTests
{
    private static readonly CompressionType[] Codecs = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

    private static IProducer<string, string> Producer(string bootstrap, CompressionType codec) =>
        new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap, CompressionType = codec, LingerMs = 100, BatchNumMessages = 1000,
        }).Build();

    [Fact]
    public async Task Compaction_keeps_the_latest_value_per_key_in_batches_of_every_codec()
    {
        await using var broker = await BrokerProcess.StartAsync("--Broker:SegmentBytes=1024", "--Broker:RetentionCheckIntervalMs=100");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync(Codecs.Select(c => new TopicSpecification
            {
                Name = $"levels-{c}".ToLowerInvariant(), NumPartitions = 1, Configs = new() { ["cleanup.policy"] = "compact" },
            }));
        }
        foreach (var codec in Codecs)
        {
            using var producer = Producer(broker.BootstrapServers, codec);
            for (var round = 0; round < 30; round++)
            {
                // Ten records go out together: each batch holds several keys, so compaction must rewrite batches, not drop them.
                var sends = Enumerable.Range(0, 10).Select(product => producer.ProduceAsync($"levels-{codec}".ToLowerInvariant(),
                    new Message<string, string> { Key = $"product-{product}", Value = $"level {round}" })).ToList();
                await Task.WhenAll(sends);
            }
        }
        await Eventually.TrueAsync(() => broker.Output.Split("Compaction removed").Length > Codecs.Length, "compaction ran once per codec's topic");

        foreach (var codec in Codecs)
        {
            var topic = $"levels-{codec}".ToLowerInvariant();
            Assert.Contains($"superseded records of {topic}-0", broker.Output);
            using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
            {
                BootstrapServers = broker.BootstrapServers, GroupId = "reader", EnablePartitionEof = true, EnableAutoCommit = false, CheckCrcs = true,
            }).Build();
            consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
            var records = new List<ConsumeResult<string, string>>();
            while (consumer.Consume(TimeSpan.FromSeconds(10)) is { } result && !result.IsPartitionEOF) records.Add(result);

            Assert.True(records.Count < 300, $"{codec}: {records.Count} records, nothing compacted");
            var latest = records.GroupBy(r => r.Message.Key).ToDictionary(g => g.Key, g => g.Last().Message.Value);
            Assert.Equal(10, latest.Count);
            Assert.All(latest.Values, v => Assert.Equal("level 29", v));
            Assert.Equal(299, records[^1].Offset.Value);
        }
    }

    [Fact]
    public async Task Offsets_for_a_time_inside_a_batch_find_the_first_record_at_or_after_it_for_every_codec()
    {
        await using var broker = await BrokerProcess.StartAsync();
        var start = new DateTime(2026, 11, 1, 10, 0, 0, DateTimeKind.Utc);
        foreach (var codec in Codecs)
        {
            var topic = $"times-{codec}".ToLowerInvariant();
            using (var producer = Producer(broker.BootstrapServers, codec))
            {
                // One batch of ten records, a minute apart.
                var sends = Enumerable.Range(0, 10).Select(i => producer.ProduceAsync(topic, new Message<string, string>
                {
                    Key = $"k{i}", Value = $"v{i}", Timestamp = new Timestamp(start.AddMinutes(i)),
                })).ToList();
                await Task.WhenAll(sends);
                Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), sends.Select(s => s.Result.Offset.Value));
            }
            using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "timer" }).Build();

            var at = consumer.OffsetsForTimes([new TopicPartitionTimestamp(topic, 0, new Timestamp(start.AddMinutes(3)))], TimeSpan.FromSeconds(10));
            var between = consumer.OffsetsForTimes([new TopicPartitionTimestamp(topic, 0, new Timestamp(start.AddMinutes(6).AddSeconds(30)))], TimeSpan.FromSeconds(10));
            var after = consumer.OffsetsForTimes([new TopicPartitionTimestamp(topic, 0, new Timestamp(start.AddMinutes(20)))], TimeSpan.FromSeconds(10));

            Assert.Equal(3, at[0].Offset.Value);
            Assert.Equal(7, between[0].Offset.Value);
            Assert.Equal(Offset.End, after[0].Offset); // none at or after: -1, which librdkafka reports as End
        }
    }

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    public async Task Kafkajs_offsets_for_a_time_inside_a_batch_find_the_first_record_at_or_after_it(string codec)
    {
        await using var broker = await BrokerProcess.StartAsync();
        var start = new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var asked = new[] { start + 3 * 60_000, start + 6 * 60_000 + 30_000, start };
        var clients = Path.Combine(ExternalTool.RepoRoot, "tests", "clients");
        var run = await ExternalTool.RunAsync("node",
            ["offsets-by-time.js", broker.BootstrapServers, $"times-{codec}", start.ToString(), codec, .. asked.Select(t => t.ToString())], workingDirectory: clients);
        Assert.True(run.ExitCode == 0, $"{run.Stdout}\n{run.Stderr}");

        Assert.Equal([3L, 7L, 0L], System.Text.Json.JsonSerializer.Deserialize<long[]>(run.Stdout)!);
    }
}
