using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.Broker.Tests;

/// <summary>
/// A fetch with fetch.min.bytes waits, as Kafka's does, until that much has come or its
/// fetch.wait.max.ms has passed: what the shop's read-model consumer groups rely on to take their
/// events in batches.
/// </summary>
public sealed class LongPollTests
{
    [Fact]
    public async Task A_fetch_waiting_for_min_bytes_is_answered_when_records_arriving_one_by_one_add_up_to_them_not_before()
    {
        await using var broker = await BrokerProcess.StartAsync();
        await CreateTopicAsync(broker, "trickle");
        using var consumer = Consumer(broker, minBytes: 4_000, maxWaitMs: 60_000);
        consumer.Assign(new TopicPartitionOffset("trickle", 0, Offset.Beginning));
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 0 }).Build();

        await producer.ProduceAsync("trickle", new Message<Null, byte[]> { Value = new byte[200] });
        Assert.Null(consumer.Consume(TimeSpan.FromSeconds(1))); // 200 B of the 4,000 asked for: the fetch goes on waiting

        // One by one, each its own request, each waking the waiting fetch: together past 4,000 B. Each
        // record is a batch of 270 B, so 15 of them answer the fetch, and none comes before the 15th
        // is written, which is after the producer has the answer to the 14th (records 0..13: 3,780 B).
        // The records after the answer may wait in the next fetch for 4,000 B more: not counted.
        var firstSeen = 0L;
        var reading = Task.Run(() =>
        {
            var received = 0;
            var deadline = DateTime.UtcNow.AddSeconds(30); // half the fetch's max wait: only the bytes can answer it
            while (received < 15 && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is null) continue;
                if (received++ == 0) firstSeen = Stopwatch.GetTimestamp();
            }
            return received;
        });
        var acknowledged = new long[30];
        for (var i = 1; i < 30; i++)
        {
            await producer.ProduceAsync("trickle", new Message<Null, byte[]> { Value = new byte[200] });
            acknowledged[i] = Stopwatch.GetTimestamp();
        }
        Assert.Equal(15, await reading);
        Assert.True(firstSeen > acknowledged[13], "the fetch was answered before 4,000 B had come");
    }

    [Fact]
    public async Task A_fetch_whose_min_bytes_never_come_is_answered_with_what_there_is_at_its_max_wait()
    {
        await using var broker = await BrokerProcess.StartAsync();
        await CreateTopicAsync(broker, "quiet");
        using var consumer = Consumer(broker, minBytes: 1 << 20, maxWaitMs: 300);
        consumer.Assign(new TopicPartitionOffset("quiet", 0, Offset.Beginning));
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 0 }).Build();

        await producer.ProduceAsync("quiet", new Message<Null, string> { Value = "alone" });

        var record = consumer.Consume(TimeSpan.FromSeconds(20));
        Assert.NotNull(record);
        Assert.Equal("alone", System.Text.Encoding.UTF8.GetString(record.Message.Value));
    }

    private static async Task CreateTopicAsync(BrokerProcess broker, string name)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = 1 }]);
    }

    private static IConsumer<Null, byte[]> Consumer(BrokerProcess broker, int minBytes, int maxWaitMs) =>
        new ConsumerBuilder<Null, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = $"long-poll-{minBytes}", EnableAutoCommit = false,
            FetchMinBytes = minBytes, FetchWaitMaxMs = maxWaitMs,
        }).Build();
}
