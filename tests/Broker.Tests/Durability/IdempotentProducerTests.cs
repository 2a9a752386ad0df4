using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Testing;

namespace Shop.Broker.Tests.Durability;

/// <summary>
/// Idempotent producers against the real broker: retried batches are not written twice, and
/// every acknowledged record survives kill -9 of the broker exactly once.
/// </summary>
public sealed class IdempotentProducerTests
{
    private static async Task CreateTopicAsync(string bootstrap, string topic, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions }]);
    }

    private static List<ConsumeResult<string, string>>[] ReadAll(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "verifier", EnableAutoCommit = false,
        }).Build();
        var result = new List<ConsumeResult<string, string>>[partitions];
        for (var p = 0; p < partitions; p++)
        {
            var tp = new TopicPartition(topic, p);
            var high = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
            result[p] = [];
            consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (result[p].Count < high && DateTime.UtcNow < deadline)
            {
                var record = consumer.Consume(TimeSpan.FromSeconds(1));
                if (record is not null) result[p].Add(record);
            }
            Assert.Equal(high, result[p].Count);
        }
        return result;
    }

    [Fact]
    public async Task A_producer_that_never_heard_the_answer_retries_without_writing_twice()
    {
        var broker = await BrokerProcess.StartAsync();
        await using var _ = broker;
        await using var proxy = new ResponseDroppingProxy(broker.Port, drops: 3);
        // Clients must come back through the proxy: the broker advertises the proxy's port.
        await broker.StopAsync();
        await using var proxied = await BrokerProcess.StartOnAsync(broker.DataDir, broker.Port, $"--Broker:AdvertisedPort={proxy.Port}");
        var bootstrap = $"localhost:{proxy.Port}";
        await CreateTopicAsync(bootstrap, "retried", 1);

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap, EnableIdempotence = true, Acks = Acks.All, LingerMs = 0,
        }).Build())
        {
            for (var i = 0; i < 50; i++)
            {
                var delivered = await producer.ProduceAsync("retried", new Message<string, string> { Key = "k", Value = $"v{i}" });
                Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
            }
        }

        Assert.Equal(3, proxy.Dropped);
        var values = ReadAll(bootstrap, "retried", 1)[0].Select(r => r.Message.Value).ToList();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"v{i}"), values); // each once, in order
    }

    [Fact]
    public async Task Every_acknowledged_record_survives_thirty_kills_exactly_once_and_in_order()
    {
        const string topic = "crash";
        const int partitions = 3;
        await using var broker = await BrokerProcess.StartAsync();
        await CreateTopicAsync(broker.BootstrapServers, topic, partitions);

        var acknowledged = new ConcurrentDictionary<string, (int Partition, long Offset)>();
        var failures = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var producers = Enumerable.Range(0, 3).Select(p => Task.Run(() =>
        {
            using var producer = new ProducerBuilder<string, string>(new ProducerConfig
            {
                BootstrapServers = broker.BootstrapServers, EnableIdempotence = true, Acks = Acks.All, LingerMs = 2,
                MessageTimeoutMs = 120_000, ReconnectBackoffMs = 50, ReconnectBackoffMaxMs = 200,
            }).Build();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var value = $"p{p}-{i}";
                try
                {
                    producer.Produce(topic, new Message<string, string> { Key = $"key-{i % 10}", Value = value }, report =>
                    {
                        if (report.Error.IsError) failures.Add($"{value}: {report.Error.Reason}");
                        else acknowledged[value] = (report.Partition.Value, report.Offset.Value);
                    });
                }
                catch (ProduceException<string, string> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                    i--;
                    continue;
                }
                if (i % 100 == 0) producer.Poll(TimeSpan.Zero);
            }
            producer.Flush(TimeSpan.FromSeconds(120));
        })).ToList();

        var random = new Random(2026);
        for (var kill = 0; kill < 30; kill++)
        {
            var before = acknowledged.Count;
            // A random kill point, once the producers are writing again after the last restart.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (acknowledged.Count < before + 50 && DateTime.UtcNow < deadline) await Task.Delay(10);
            await Task.Delay(random.Next(0, 300));
            await broker.KillAsync();
            await broker.StartAsync();
        }
        var target = acknowledged.Count + 100;
        await Eventually.TrueAsync(() => acknowledged.Count >= target, "100 more records acknowledged after the last restart", interval: TimeSpan.FromMilliseconds(10));
        await stop.CancelAsync();
        await Task.WhenAll(producers);

        Assert.Empty(failures);
        var log = ReadAll(broker.BootstrapServers, topic, partitions);
        for (var p = 0; p < partitions; p++)
        {
            Assert.Equal(Enumerable.Range(0, log[p].Count).Select(i => (long)i), log[p].Select(r => r.Offset.Value)); // contiguous
        }
        var stored = log.SelectMany(l => l).GroupBy(r => r.Message.Value).ToDictionary(g => g.Key, g => g.ToList());
        var duplicates = stored.Where(s => s.Value.Count > 1).Select(s => s.Key).ToList();
        Assert.True(duplicates.Count == 0, $"written twice: {string.Join(", ", duplicates.Take(10))}");
        foreach (var (value, (partition, offset)) in acknowledged)
        {
            Assert.True(stored.TryGetValue(value, out var copies), $"acknowledged {value} at {partition}/{offset} is missing");
            Assert.Equal((partition, offset), (copies[0].Partition.Value, copies[0].Offset.Value));
        }
        // Order per producer and partition: a later record never sits before an earlier one.
        foreach (var partitionLog in log)
        {
            foreach (var byProducer in partitionLog.GroupBy(r => r.Message.Value.Split('-')[0]))
            {
                var numbers = byProducer.Select(r => int.Parse(r.Message.Value.Split('-')[1])).ToList();
                Assert.Equal(numbers.Order(), numbers);
            }
        }
        Assert.True(acknowledged.Count > 1000, $"only {acknowledged.Count} records acknowledged");
    }
}
