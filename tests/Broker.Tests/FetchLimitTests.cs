using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.Broker.Tests;

/// <summary>Fetch answers stay within the consumer's byte limits: only the first partition with data may exceed them, by one batch.</summary>
public sealed class FetchLimitTests
{
    [Fact]
    public async Task A_consumer_with_a_1_MiB_fetch_limit_reads_four_partitions_of_900_KB_records_without_a_disconnect()
    {
        await using var broker = await BrokerProcess.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "big", NumPartitions = 4 }]);
        }
        var value = new byte[900_000];
        Random.Shared.NextBytes(value);
        using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 0 }).Build())
        {
            for (var i = 0; i < 12; i++)
                await producer.ProduceAsync(new TopicPartition("big", i % 4), new Message<Null, byte[]> { Value = value });
        }

        var errors = new List<string>();
        using var consumer = new ConsumerBuilder<Null, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = "big-reader", EnableAutoCommit = false,
            FetchMaxBytes = 1_048_576, ReceiveMessageMaxBytes = 1_048_576 + 512, // the strictest librdkafka allows
        }).SetErrorHandler((_, e) => errors.Add($"{e.Code}: {e.Reason}")).Build();
        consumer.Assign(Enumerable.Range(0, 4).Select(p => new TopicPartitionOffset("big", p, Offset.Beginning)));
        var received = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (received < 12 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { } record)
            {
                Assert.Equal(value.Length, record.Message.Value.Length);
                received++;
            }
        }

        Assert.Equal(12, received);
        Assert.Empty(errors);
        Assert.DoesNotContain("Closing Kafka connection", broker.Output);
    }
}
