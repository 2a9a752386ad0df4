using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.Broker.Tests;

/// <summary>
/// Requests a client sends back to back on one connection, without waiting for answers (as
/// librdkafka and the Java client do, up to their max.in.flight): Produce requests are appended in
/// arrival order while earlier ones wait for their fsync, and every answer comes back in request
/// order, whatever finishes first.
/// </summary>
public sealed class PipeliningTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private BrokerProcess Broker => fixture.Broker;

    [Fact]
    public async Task Produce_requests_sent_together_are_appended_and_answered_in_order_with_a_bad_one_and_other_requests_among_them()
    {
        const string topic = "pipelined";
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1 }]);
        }
        const int requests = 60, corrupt = 17, apiVersionsAt = 30;
        var frames = new List<byte[]>();
        for (var i = 0; i < requests; i++)
        {
            var correlationId = i + 1;
            frames.Add(i == apiVersionsAt
                ? RawKafkaConnection.RequestFrame(18, 0, correlationId, []) // ApiVersions v0 among the produces
                : RawKafkaConnection.RequestFrame(0, 3, correlationId,
                    RawKafkaConnection.ProduceBody(topic, 0, RawKafkaConnection.OneRecordBatch($"v{i}", breakCrc: i == corrupt), acks: (short)(i % 3 == 0 ? 1 : -1))));
        }
        using var connection = await RawKafkaConnection.ConnectAsync(Broker.Port);
        await connection.SendRawAsync([.. frames.SelectMany(f => f)]); // all at once: the broker reads them before answering any

        var expectedOffset = 0L;
        var expectedValues = new List<string>();
        for (var i = 0; i < requests; i++)
        {
            var response = await connection.ReadResponseAsync();
            Assert.NotNull(response);
            Assert.Equal(i + 1, BinaryPrimitives.ReadInt32BigEndian(response)); // answers in request order
            if (i == apiVersionsAt)
            {
                Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(4)));
                continue;
            }
            if (i == corrupt)
            {
                Assert.Equal(2, RawKafkaConnection.ProduceError(response, topic)); // CORRUPT_MESSAGE, and nothing of it kept
                continue;
            }
            Assert.Equal(0, RawKafkaConnection.ProduceError(response, topic));
            Assert.Equal(expectedOffset++, RawKafkaConnection.ProduceBaseOffset(response, topic)); // appended in arrival order
            expectedValues.Add($"v{i}");
        }

        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = Broker.BootstrapServers,
            GroupId = "pipelined-reader",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var read = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (read.Count < expectedValues.Count) read.Add(consumer.Consume(timeout.Token).Message.Value);
        Assert.Equal(expectedValues, read);
    }

    [Fact]
    public async Task A_request_that_closes_the_connection_is_answered_after_the_produces_before_it_and_nothing_after_it_is_answered()
    {
        const string topic = "pipelined-then-closed";
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1 }]);
        }
        var produce = RawKafkaConnection.ProduceBody(topic, 0, RawKafkaConnection.OneRecordBatch("kept"));
        byte[] frames =
        [
            .. RawKafkaConnection.RequestFrame(0, 3, 1, produce),
            .. RawKafkaConnection.RequestFrame(0, 3, 2, produce),
            .. RawKafkaConnection.RequestFrame(0, 2, 3, produce), // a version we do not serve (3–7): Kafka closes the connection
            .. RawKafkaConnection.RequestFrame(0, 3, 4, produce),
        ];
        using var connection = await RawKafkaConnection.ConnectAsync(Broker.Port);
        await connection.SendRawAsync(frames);

        for (var correlationId = 1; correlationId <= 2; correlationId++)
        {
            var response = await connection.ReadResponseAsync();
            Assert.NotNull(response);
            Assert.Equal(correlationId, BinaryPrimitives.ReadInt32BigEndian(response));
            Assert.Equal(0, RawKafkaConnection.ProduceError(response, topic));
        }
        Assert.Null(await connection.ReadResponseAsync()); // closed: no answer to 3 nor to 4
        await Broker.WaitForOutputAsync("API key 0 version 2 is not supported");
    }
}
