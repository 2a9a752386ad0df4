using System.Buffers.Binary;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.Broker.Tests;

/// <summary>
/// What a broken or hostile client sends gets the protocol's error answer or a closed connection,
/// and the broker goes on serving everyone else without losing acknowledged data.
/// </summary>
public sealed class BadInputTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private BrokerProcess Broker => fixture.Broker;

    private async Task AssertOthersAreStillServedAsync()
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = Broker.BootstrapServers }).Build();
        var result = await producer.ProduceAsync("still-serving", new Message<Null, string> { Value = "ok" });
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
    }

    [Fact]
    public async Task A_frame_larger_than_the_cap_closes_that_connection_only()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(Broker.Port);
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, 200 * 1024 * 1024); // over the 100 MiB default
        await connection.SendRawAsync(header);
        Assert.Null(await connection.ReadResponseAsync());
        await Broker.WaitForOutputAsync("larger than Broker:MaxFrameBytes");
        await AssertOthersAreStillServedAsync();
    }

    [Fact]
    public async Task Garbage_bytes_close_that_connection_only()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(Broker.Port);
        var garbage = new byte[512];
        new Random(42).NextBytes(garbage);
        garbage[0] = 0xff; // a negative frame size
        await connection.SendRawAsync(garbage);
        Assert.Null(await connection.ReadResponseAsync());
        await AssertOthersAreStillServedAsync();
    }

    [Fact]
    public async Task An_unknown_api_key_closes_the_connection()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(Broker.Port);
        await connection.SendRequestAsync(apiKey: 999, version: 0, correlationId: 7, body: []);
        Assert.Null(await connection.ReadResponseAsync());
        await Broker.WaitForOutputAsync("unknown API key 999");
        await AssertOthersAreStillServedAsync();
    }

    [Fact]
    public async Task An_unsupported_version_closes_the_connection_and_ApiVersions_answers_with_error_35()
    {
        using (var connection = await RawKafkaConnection.ConnectAsync(Broker.Port))
        {
            await connection.SendRequestAsync(apiKey: 3, version: 99, correlationId: 8, body: []); // Metadata v99
            Assert.Null(await connection.ReadResponseAsync());
        }

        using (var connection = await RawKafkaConnection.ConnectAsync(Broker.Port))
        {
            // ApiVersions v99 is flexible: header v2, whose empty tagged fields (one 0 byte) follow the client id.
            await connection.SendRequestAsync(apiKey: 18, version: 99, correlationId: 9, body: [0]);
            var response = await connection.ReadResponseAsync();
            Assert.NotNull(response);
            Assert.Equal(9, BinaryPrimitives.ReadInt32BigEndian(response)); // correlation id, header v0
            Assert.Equal(35, BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(4))); // UNSUPPORTED_VERSION
            var count = BinaryPrimitives.ReadInt32BigEndian(response.AsSpan(6)); // v0 array: int32 length
            var keys = Enumerable.Range(0, count).Select(i => BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(10 + i * 6))).ToList();
            Assert.Contains((short)18, keys);
        }
        await AssertOthersAreStillServedAsync();
    }

    [Fact]
    public async Task A_batch_with_a_wrong_crc_is_refused_with_corrupt_message_and_nothing_is_written()
    {
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "crc-check", NumPartitions = 1 }]);
        }
        using var connection = await RawKafkaConnection.ConnectAsync(Broker.Port);

        await connection.SendRequestAsync(0, 3, 10, RawKafkaConnection.ProduceBody("crc-check", 0, RawKafkaConnection.OneRecordBatch("bad", breakCrc: true)));
        var refused = await connection.ReadResponseAsync();
        Assert.NotNull(refused);
        Assert.Equal(2, RawKafkaConnection.ProduceError(refused, "crc-check")); // CORRUPT_MESSAGE

        // The same connection still works, and the good batch gets offset 0: nothing of the bad one was kept.
        await connection.SendRequestAsync(0, 3, 11, RawKafkaConnection.ProduceBody("crc-check", 0, RawKafkaConnection.OneRecordBatch("good")));
        var accepted = await connection.ReadResponseAsync();
        Assert.NotNull(accepted);
        Assert.Equal(0, RawKafkaConnection.ProduceError(accepted, "crc-check"));
        Assert.Equal(0, RawKafkaConnection.ProduceBaseOffset(accepted, "crc-check"));
    }
}
