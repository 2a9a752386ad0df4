using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.Broker.Tests;

/// <summary>Topic administration through Confluent.Kafka's AdminClient.</summary>
public sealed class AdminTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private IAdminClient Admin() => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();

    [Fact]
    public async Task Topics_are_created_with_their_configs_described_and_deleted()
    {
        using var admin = Admin();
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = "admin-compacted", NumPartitions = 2, ReplicationFactor = 1,
            Configs = new() { ["cleanup.policy"] = "compact", ["retention.ms"] = "60000" },
        }]);

        var described = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "admin-compacted" }]);
        var entries = described.Single().Entries;
        Assert.Equal("compact", entries["cleanup.policy"].Value);
        Assert.False(entries["cleanup.policy"].IsDefault);
        Assert.Equal("60000", entries["retention.ms"].Value);
        Assert.True(entries["segment.bytes"].IsDefault);

        var metadata = admin.GetMetadata("admin-compacted", TimeSpan.FromSeconds(10));
        Assert.Equal(2, metadata.Topics.Single().Partitions.Count);

        await admin.DeleteTopicsAsync(["admin-compacted"]);
        Assert.False(Directory.Exists(Path.Combine(fixture.Broker.DataDir, "admin-compacted-0")));
        var after = admin.GetMetadata(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(after.Topics, t => t.Topic == "admin-compacted");
    }

    [Fact]
    public async Task Validate_only_creates_nothing()
    {
        using var admin = Admin();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "admin-dry-run", NumPartitions = 3 }],
            new CreateTopicsOptions { ValidateOnly = true });
        Assert.False(Directory.Exists(Path.Combine(fixture.Broker.DataDir, "admin-dry-run-0")));
    }

    [Fact]
    public async Task Impossible_requests_are_refused_with_a_reason()
    {
        using var admin = Admin();
        var replicas = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
            [new TopicSpecification { Name = "admin-replicated", NumPartitions = 1, ReplicationFactor = 3 }]));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, replicas.Results.Single().Error.Code);
        Assert.Contains("single node", replicas.Results.Single().Error.Reason);

        var config = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
            [new TopicSpecification { Name = "admin-bad-config", NumPartitions = 1, Configs = new() { ["retention.msec"] = "1" } }]));
        Assert.Equal(ErrorCode.InvalidConfig, config.Results.Single().Error.Code);
        Assert.Contains("retention.msec", config.Results.Single().Error.Reason);

        await admin.CreateTopicsAsync([new TopicSpecification { Name = "admin-twice", NumPartitions = 1 }]);
        var twice = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
            [new TopicSpecification { Name = "admin-twice", NumPartitions = 1 }]));
        Assert.Equal(ErrorCode.TopicAlreadyExists, twice.Results.Single().Error.Code);
    }
}
