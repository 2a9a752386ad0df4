using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.Broker.Tests;

/// <summary>Confluent.Kafka (librdkafka) against the real broker: every codec, keys, headers, timestamps, order, offsets.</summary>
public sealed class ConfluentRoundTripTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private const int Partitions = 3;
    private const int Records = 10_000;

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public async Task Ten_thousand_keyed_records_come_back_as_sent(CompressionType compression)
    {
        var topic = $"round-trip-{compression.ToString().ToLowerInvariant()}";
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
        }

        var baseTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - Records;
        var sent = new List<(int Partition, long Offset, string Key, string Value, long Timestamp, string Header)>[Partitions];
        for (var p = 0; p < Partitions; p++) sent[p] = [];
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            Acks = Acks.All,
            CompressionType = compression,
            LingerMs = 5,
        }).Build())
        {
            var errors = new List<string>();
            for (var i = 0; i < Records; i++)
            {
                var message = new Message<string, string>
                {
                    Key = $"key-{i % 97}",
                    Value = $"value-{i}-{new string('x', i % 50)}",
                    Timestamp = new Timestamp(baseTime + i, TimestampType.CreateTime),
                    Headers = new Headers { { "message-id", Encoding.UTF8.GetBytes($"m-{i}") } },
                };
                producer.Produce(topic, message, report =>
                {
                    lock (errors)
                    {
                        if (report.Error.IsError) { errors.Add(report.Error.Reason); return; }
                        sent[report.Partition.Value].Add((report.Partition.Value, report.Offset.Value, report.Message.Key,
                            report.Message.Value, report.Message.Timestamp.UnixTimestampMs,
                            Encoding.UTF8.GetString(report.Message.Headers.GetLastBytes("message-id"))));
                    }
                });
            }
            producer.Flush(TimeSpan.FromSeconds(60));
            Assert.Empty(errors);
        }
        Assert.Equal(Records, sent.Sum(s => s.Count));

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            GroupId = "unused-with-assign",
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var received = new List<ConsumeResult<string, string>>[Partitions];
        for (var p = 0; p < Partitions; p++) received[p] = [];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (received.Sum(r => r.Count) < Records && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(1));
            if (result is { IsPartitionEOF: false }) received[result.Partition.Value].Add(result);
        }

        for (var p = 0; p < Partitions; p++)
        {
            var expected = sent[p].OrderBy(s => s.Offset).ToList();
            var actual = received[p];
            Assert.Equal(expected.Count, actual.Count);
            for (var i = 0; i < actual.Count; i++)
            {
                Assert.Equal(i, actual[i].Offset.Value); // contiguous from 0
                Assert.Equal(expected[i].Offset, actual[i].Offset.Value);
                Assert.Equal(expected[i].Key, actual[i].Message.Key);
                Assert.Equal(expected[i].Value, actual[i].Message.Value);
                Assert.Equal(expected[i].Timestamp, actual[i].Message.Timestamp.UnixTimestampMs);
                Assert.Equal(expected[i].Header, Encoding.UTF8.GetString(actual[i].Message.Headers.GetLastBytes("message-id")));
            }
            // Order per partition: records of one key keep the order they were produced in.
            foreach (var byKey in actual.GroupBy(r => r.Message.Key))
            {
                var numbers = byKey.Select(r => int.Parse(r.Message.Value.Split('-')[1])).ToList();
                Assert.Equal(numbers.Order(), numbers);
            }

            var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            Assert.Equal(0, watermarks.Low.Value);
            Assert.Equal(actual.Count, watermarks.High.Value);
        }

        // By timestamp: the first record at or after a time in the middle of the run.
        var middle = baseTime + Records / 2;
        var byTime = consumer.OffsetsForTimes(
            Enumerable.Range(0, Partitions).Select(p => new TopicPartitionTimestamp(topic, p, new Timestamp(middle, TimestampType.CreateTime))),
            TimeSpan.FromSeconds(10));
        foreach (var found in byTime)
        {
            var records = received[found.Partition.Value];
            // The record itself, not the start of the batch that holds it.
            var firstAtOrAfter = records.First(r => r.Message.Timestamp.UnixTimestampMs >= middle).Offset.Value;
            Assert.Equal(firstAtOrAfter, found.Offset.Value);
        }
    }

    [Fact]
    public void A_transactional_producer_fails_at_once_with_an_error_that_says_why()
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers, TransactionalId = "shop-tx",
        }).Build();

        // Not a retry loop until the 60 s timeout: a fatal error, naming what to do instead.
        var failed = Assert.ThrowsAny<KafkaException>(() => producer.InitTransactions(TimeSpan.FromSeconds(60)));

        Assert.NotEqual(ErrorCode.Local_TimedOut, failed.Error.Code);
        Assert.True(failed.Error.IsFatal, failed.Error.ToString());
        Assert.Contains("does not support transactions", failed.Error.Reason);
    }
}
