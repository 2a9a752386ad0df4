using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.Broker.Tests.Durability;

/// <summary>cleanup.policy=compact keeps the latest value of every key (the stock-levels topic relies on it).</summary>
public sealed class CompactionTests
{
    [Fact]
    public async Task A_compacted_topic_keeps_the_latest_value_per_key_across_a_restart()
    {
        await using var broker = await BrokerProcess.StartAsync("--Broker:SegmentBytes=1024", "--Broker:RetentionCheckIntervalMs=100");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = "stock", NumPartitions = 1, Configs = new() { ["cleanup.policy"] = "compact" },
            }]);
        }
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 0 }).Build())
        {
            for (var round = 0; round < 20; round++)
            {
                for (var product = 0; product < 5; product++)
                {
                    await producer.ProduceAsync("stock", new Message<string, string> { Key = $"product-{product}", Value = $"level {round}" });
                }
            }
        }
        await broker.WaitForOutputAsync("Compaction removed", TimeSpan.FromSeconds(30));

        List<ConsumeResult<string, string>> ReadAll()
        {
            using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
            {
                BootstrapServers = broker.BootstrapServers, GroupId = "reader", EnablePartitionEof = true, EnableAutoCommit = false,
            }).Build();
            consumer.Assign(new TopicPartitionOffset("stock", 0, Offset.Beginning));
            var records = new List<ConsumeResult<string, string>>();
            while (consumer.Consume(TimeSpan.FromSeconds(10)) is { } result && !result.IsPartitionEOF) records.Add(result);
            return records;
        }

        foreach (var records in new[] { ReadAll(), await RestartedAsync() })
        {
            Assert.True(records.Count < 100, $"{records.Count} records: nothing was compacted");
            var latest = records.GroupBy(r => r.Message.Key).ToDictionary(g => g.Key, g => g.Last().Message.Value);
            Assert.Equal(5, latest.Count);
            Assert.All(latest.Values, v => Assert.Equal("level 19", v));
            Assert.Equal(records.Select(r => r.Offset.Value).Order(), records.Select(r => r.Offset.Value)); // offsets only grow
            Assert.Equal(99, records[^1].Offset.Value); // offsets are kept, gaps and all
        }

        async Task<List<ConsumeResult<string, string>>> RestartedAsync()
        {
            await broker.KillAsync(); // recovery must accept the gaps compaction left
            await broker.StartAsync();
            return ReadAll();
        }
    }
}
