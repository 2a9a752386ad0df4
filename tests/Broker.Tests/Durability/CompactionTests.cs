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

    [Fact]
    public async Task Compaction_running_while_consumers_fetch_closes_no_connection()
    {
        await using var broker = await BrokerProcess.StartAsync("--Broker:SegmentBytes=1024", "--Broker:RetentionCheckIntervalMs=20");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = "levels", NumPartitions = 1, Configs = new() { ["cleanup.policy"] = "compact" },
            }]);
        }
        var clientErrors = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var consumed = 0L;
        var consumers = Enumerable.Range(0, 3).Select(c => Task.Run(() =>
        {
            using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
            {
                BootstrapServers = broker.BootstrapServers, GroupId = $"reader-{c}", EnableAutoCommit = false,
                EnablePartitionEof = true, FetchWaitMaxMs = 10,
            }).SetErrorHandler((_, e) => clientErrors.Add($"consumer {c}: {e.Code} {e.Reason}")).Build();
            consumer.Assign(new TopicPartitionOffset("levels", 0, Offset.Beginning));
            while (!stop.IsCancellationRequested)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result is null) continue;
                if (result.IsPartitionEOF) consumer.Seek(new TopicPartitionOffset("levels", 0, Offset.Beginning)); // read the segments again
                else Interlocked.Increment(ref consumed);
            }
        })).ToList();

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers, LingerMs = 0,
        }).SetErrorHandler((_, e) => clientErrors.Add($"producer: {e.Code} {e.Reason}")).Build())
        {
            for (var round = 0; round < 200; round++)
            {
                for (var product = 0; product < 5; product++)
                {
                    await producer.ProduceAsync("levels", new Message<string, string> { Key = $"product-{product}", Value = $"level {round}" });
                }
            }
        }
        try
        {
            await Eventually.TrueAsync(() => broker.Output.Split("Compaction removed").Length >= 10, "compaction ran 10 times while consumers read",
                TimeSpan.FromSeconds(30));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(consumers);
        }

        Assert.True(Interlocked.Read(ref consumed) > 1000, $"consumers read only {consumed} records");
        Assert.Empty(clientErrors);
        Assert.DoesNotContain("Closing Kafka connection", broker.Output);
        Assert.DoesNotContain("failed; closing it", broker.Output);
    }
}
