using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Testing;

namespace Shop.Broker.Tests;

/// <summary>Confluent.Kafka's AdminClient on topics: configs as provisioning tools set them, more partitions, deleted records.</summary>
public sealed class TopicAdminTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private IAdminClient Admin() => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();

    private static ConfigResource TopicResource(string name) => new() { Type = ResourceType.Topic, Name = name };

    [Fact]
    public async Task Topic_configs_are_created_altered_incrementally_changed_and_described_with_their_sources()
    {
        using var admin = Admin();
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = "configured", NumPartitions = 1,
            Configs = new() { ["compression.type"] = "zstd", ["delete.retention.ms"] = "1000", ["min.insync.replicas"] = "1", ["retention.ms"] = "3600000" },
        }]);

        var described = (await admin.DescribeConfigsAsync([TopicResource("configured")]))[0].Entries;
        Assert.Equal(("zstd", ConfigSource.DynamicTopicConfig), (described["compression.type"].Value, described["compression.type"].Source));
        Assert.Equal(("delete", ConfigSource.DefaultConfig), (described["cleanup.policy"].Value, described["cleanup.policy"].Source));

        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [TopicResource("configured")] =
            [
                new ConfigEntry { Name = "retention.bytes", Value = "100000", IncrementalOperation = AlterConfigOpType.Set },
                new ConfigEntry { Name = "delete.retention.ms", IncrementalOperation = AlterConfigOpType.Delete },
                new ConfigEntry { Name = "cleanup.policy", Value = "compact", IncrementalOperation = AlterConfigOpType.Append },
            ],
        });
        described = (await admin.DescribeConfigsAsync([TopicResource("configured")]))[0].Entries;
        Assert.Equal("100000", described["retention.bytes"].Value);
        Assert.Equal(("86400000", ConfigSource.DefaultConfig), (described["delete.retention.ms"].Value, described["delete.retention.ms"].Source));
        Assert.Equal("delete,compact", described["cleanup.policy"].Value);

        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [TopicResource("configured")] = [new ConfigEntry { Name = "cleanup.policy", Value = "delete", IncrementalOperation = AlterConfigOpType.Subtract }],
        });
        Assert.Equal("compact", (await admin.DescribeConfigsAsync([TopicResource("configured")]))[0].Entries["cleanup.policy"].Value);

#pragma warning disable CS0618 // AlterConfigs replaces every config: what some tools still send
        await admin.AlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [TopicResource("configured")] = [new ConfigEntry { Name = "retention.ms", Value = "7200000" }],
        });
#pragma warning restore CS0618
        described = (await admin.DescribeConfigsAsync([TopicResource("configured")]))[0].Entries;
        Assert.Equal(("7200000", ConfigSource.DynamicTopicConfig), (described["retention.ms"].Value, described["retention.ms"].Source));
        Assert.Equal(("producer", ConfigSource.DefaultConfig), (described["compression.type"].Value, described["compression.type"].Source));

        var refused = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [TopicResource("configured")] = [new ConfigEntry { Name = "retention.ms", Value = "soon", IncrementalOperation = AlterConfigOpType.Set }],
        }));
        Assert.Equal(ErrorCode.InvalidConfig, refused.Results[0].Error.Code);
    }

    [Fact]
    public async Task More_partitions_are_picked_up_by_a_consumer_group()
    {
        using var admin = Admin();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "growing", NumPartitions = 1 }]);
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers, GroupId = "grower", TopicMetadataRefreshIntervalMs = 500,
        }).Build();
        consumer.Subscribe("growing");
        await Eventually.TrueAsync(() => { consumer.Consume(TimeSpan.FromMilliseconds(100)); return consumer.Assignment.Count == 1; },
            "the consumer is assigned the topic's one partition", interval: TimeSpan.Zero);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "growing", IncreaseTo = 4 }]);

        await Eventually.TrueAsync(() => { consumer.Consume(TimeSpan.FromMilliseconds(100)); return consumer.Assignment.Count == 4; },
            "the consumer is assigned the three new partitions too", interval: TimeSpan.Zero);
        var refused = await Assert.ThrowsAsync<CreatePartitionsException>(() =>
            admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "growing", IncreaseTo = 2 }]));
        Assert.Equal(ErrorCode.InvalidPartitions, refused.Results[0].Error.Code);
        consumer.Close();
    }

    [Fact]
    public async Task Deleting_records_moves_the_log_start_offset()
    {
        using var admin = Admin();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "trimmed", NumPartitions = 1 }]);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build())
        {
            for (var i = 0; i < 10; i++) await producer.ProduceAsync("trimmed", new Message<Null, string> { Value = $"r{i}" });
        }

        var deleted = await admin.DeleteRecordsAsync([new TopicPartitionOffset("trimmed", 0, 6)]);

        Assert.Equal(6, deleted[0].Offset.Value);
        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers, GroupId = "after-trim", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        Assert.Equal(6, consumer.QueryWatermarkOffsets(new TopicPartition("trimmed", 0), TimeSpan.FromSeconds(10)).Low.Value);
        consumer.Assign(new TopicPartitionOffset("trimmed", 0, Offset.Beginning));
        Assert.Equal("r6", consumer.Consume(TimeSpan.FromSeconds(10))?.Message.Value);
    }
}
