using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.Broker.Tests;

/// <summary>
/// Every partition keeps files open, so the broker caps how many it holds (Broker:MaxPartitions):
/// a client asking for more gets INVALID_PARTITIONS with the reason, and the broker goes on serving.
/// </summary>
public sealed class PartitionCapTests : IAsyncLifetime
{
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync() => _broker = await BrokerProcess.StartAsync("--Broker:MaxPartitions=10");

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Topics_and_partitions_past_the_cap_are_refused_with_the_reason_and_the_rest_goes_on()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _broker.BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "within", NumPartitions = 6 }]); // __consumer_offsets holds 1

        var refused = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = "beyond", NumPartitions = 4 }]));
        Assert.Equal(ErrorCode.InvalidPartitions, refused.Results[0].Error.Code);
        Assert.Contains("Broker:MaxPartitions (10)", refused.Results[0].Error.Reason);

        var notGrown = await Assert.ThrowsAsync<CreatePartitionsException>(() =>
            admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "within", IncreaseTo = 10 }]));
        Assert.Equal(ErrorCode.InvalidPartitions, notGrown.Results[0].Error.Code);

        // Up to the cap is fine, and the topics there are served.
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "last", NumPartitions = 3 }]);
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers }).Build();
        var delivered = await producer.ProduceAsync(new TopicPartition("last", 2), new Message<Null, string> { Value = "still served" });
        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
    }
}
