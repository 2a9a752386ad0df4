using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Testing;

namespace Shop.Broker.Tests.Groups;

/// <summary>Consumer groups with Confluent.Kafka against the real broker: sharing, rebalancing, commits.</summary>
public sealed class ConsumerGroupTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private const int Partitions = 6;

    private async Task CreateTopicAsync(string topic, int partitions = Partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions }]);
    }

    private async Task ProduceAsync(string topic, int count, int from = 0)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();
        for (var i = from; i < from + count; i++)
        {
            producer.Produce(topic, new Message<string, string> { Key = $"k{i}", Value = $"v{i}" });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
        await Task.CompletedTask;
    }

    /// <summary>A group consumer on its own thread that commits each record synchronously after handling it.</summary>
    private sealed class GroupConsumer : IDisposable
    {
        private readonly IConsumer<string, string> _consumer;
        private readonly Thread _thread;
        private readonly CancellationTokenSource _stop = new();
        public readonly ConcurrentBag<string> Values = [];
        public volatile List<TopicPartition> Assignment = [];

        public GroupConsumer(string bootstrap, string group, string topic, PartitionAssignmentStrategy strategy)
        {
            _consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
            {
                BootstrapServers = bootstrap,
                GroupId = group,
                AutoOffsetReset = AutoOffsetReset.Earliest,
                EnableAutoCommit = false,
                PartitionAssignmentStrategy = strategy,
                SessionTimeoutMs = 6000,
                HeartbeatIntervalMs = 500,
            }).Build();
            _consumer.Subscribe(topic);
            _thread = new Thread(Run) { IsBackground = true };
            _thread.Start();
        }

        private void Run()
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var result = _consumer.Consume(TimeSpan.FromMilliseconds(100));
                    Assignment = _consumer.Assignment.ToList();
                    if (result is null) continue;
                    Values.Add(result.Message.Value);
                    _consumer.Commit(result);
                }
                catch (KafkaException) when (!_stop.IsCancellationRequested)
                {
                    // a commit refused during a rebalance: the record is consumed again by its new owner
                }
            }
        }

        /// <summary>Leaves the group cleanly (LeaveGroup), as a service does on shutdown.</summary>
        public void Dispose()
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            _thread.Join();
            _consumer.Close();
            _consumer.Dispose();
        }
    }

    [Theory]
    [InlineData(PartitionAssignmentStrategy.Range)]
    [InlineData(PartitionAssignmentStrategy.CooperativeSticky)]
    public async Task Two_consumers_split_the_partitions_and_the_survivor_takes_all_of_them(PartitionAssignmentStrategy strategy)
    {
        var topic = $"split-{strategy}".ToLowerInvariant();
        var group = $"group-{topic}";
        await CreateTopicAsync(topic);

        using var first = new GroupConsumer(fixture.Broker.BootstrapServers, group, topic, strategy);
        var second = new GroupConsumer(fixture.Broker.BootstrapServers, group, topic, strategy);
        await Eventually.TrueAsync(() => first.Assignment.Count + second.Assignment.Count == Partitions && first.Assignment.Count > 0 && second.Assignment.Count > 0,
            "both consumers share the six partitions");
        Assert.Empty(first.Assignment.Intersect(second.Assignment));

        await ProduceAsync(topic, 600);
        await Eventually.TrueAsync(() => first.Values.Count + second.Values.Count >= 600, "all 600 records are consumed");

        second.Dispose(); // leaves the group
        await Eventually.TrueAsync(() => first.Assignment.Count == Partitions, "the survivor owns all six partitions", TimeSpan.FromSeconds(30));

        await ProduceAsync(topic, 400, from: 600);
        await Eventually.TrueAsync(() => first.Values.Count + second.Values.Count >= 1000, "the next 400 records are consumed");
        var all = first.Values.Concat(second.Values).ToList();
        // Exactly once across the group: every record, none twice (commits are synchronous per record).
        var duplicates = all.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(all.Count == 1000 && duplicates.Count == 0,
            $"{all.Count} consumed, duplicates: {string.Join(", ", duplicates)}; first had {first.Values.Count}, second {second.Values.Count}");
    }

    [Fact]
    public async Task A_consumer_killed_without_leaving_is_evicted_after_its_session_timeout()
    {
        const string topic = "evicted";
        const string group = "group-evicted";
        await CreateTopicAsync(topic);
        await ProduceAsync(topic, 60);

        // kcat as a separate process in the same group, killed with SIGKILL: it never sends LeaveGroup.
        using var kcat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("kcat",
            ["-b", fixture.Broker.BootstrapServers, "-G", group, "-X", "session.timeout.ms=6000", "-X", "auto.offset.reset=earliest", "-q", "-u", topic])
        { RedirectStandardOutput = true, UseShellExecute = false })!;
        var kcatLines = 0;
        kcat.OutputDataReceived += (_, e) => { if (e.Data is not null) Interlocked.Increment(ref kcatLines); };
        kcat.BeginOutputReadLine();
        await Eventually.TrueAsync(() => Volatile.Read(ref kcatLines) == 60, "kcat alone consumes everything");

        using var survivor = new GroupConsumer(fixture.Broker.BootstrapServers, group, topic, PartitionAssignmentStrategy.Range);
        await Eventually.TrueAsync(() => survivor.Assignment.Count is > 0 and < Partitions, "the group is shared with kcat");
        kcat.Kill();
        var killedAt = DateTime.UtcNow;
        await Eventually.TrueAsync(() => survivor.Assignment.Count == Partitions, "the killed member's partitions move", TimeSpan.FromSeconds(40));
        Assert.True(DateTime.UtcNow - killedAt >= TimeSpan.FromSeconds(3), "moved only after the session timeout, not at once");
    }

    [Fact]
    public async Task Committed_offsets_survive_a_broker_restart()
    {
        await using var broker = await BrokerProcess.StartAsync();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "resume", NumPartitions = 1 }]);
        }
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            for (var i = 0; i < 10; i++) producer.Produce("resume", new Message<Null, string> { Value = $"v{i}" });
            producer.Flush(TimeSpan.FromSeconds(30));
        }

        List<string> ConsumeAndCommit(int count)
        {
            using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig
            {
                BootstrapServers = broker.BootstrapServers, GroupId = "resumer", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
            }).Build();
            consumer.Subscribe("resume");
            var values = new List<string>();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (values.Count < count && DateTime.UtcNow < deadline)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null) continue;
                values.Add(result.Message.Value);
                consumer.Commit(result);
            }
            consumer.Close();
            return values;
        }

        Assert.Equal(["v0", "v1", "v2", "v3"], ConsumeAndCommit(4));
        await broker.KillAsync(); // even a crash keeps acknowledged commits
        await broker.StartAsync();
        Assert.Equal(["v4", "v5", "v6", "v7", "v8", "v9"], ConsumeAndCommit(6));
    }

    [Fact]
    public async Task Groups_are_listed_and_described_with_members_assignments_and_lag()
    {
        const string topic = "described";
        const string group = "group-described";
        await CreateTopicAsync(topic, partitions: 2);
        await ProduceAsync(topic, 10);
        using var member = new GroupConsumer(fixture.Broker.BootstrapServers, group, topic, PartitionAssignmentStrategy.Range);
        await Eventually.TrueAsync(() => member.Values.Count == 10, "the member consumes everything");

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();
        var listed = await admin.ListConsumerGroupsAsync();
        Assert.Contains(listed.Valid, g => g.GroupId == group);
        var described = (await admin.DescribeConsumerGroupsAsync([group])).ConsumerGroupDescriptions.Single();
        Assert.Equal(ConsumerGroupState.Stable, described.State);
        Assert.Equal("range", described.PartitionAssignor);
        var assigned = Assert.Single(described.Members).Assignment.TopicPartitions;
        Assert.Equal(2, assigned.Count);

        // Lag = log end offset − committed offset, per partition.
        await ProduceAsync(topic, 0);
        member.Dispose();
        await ProduceAsync(topic, 7, from: 10);
        using var http = new HttpClient();
        var console = await http.GetStringAsync($"{fixture.Broker.ConsoleUrl}/api/groups/{group}");
        using var json = System.Text.Json.JsonDocument.Parse(console);
        var offsets = json.RootElement.GetProperty("offsets").EnumerateArray().ToList();
        Assert.Equal(7, offsets.Sum(p => p.GetProperty("lag").GetInt64()));
        Assert.Equal(7, json.RootElement.GetProperty("total_lag").GetInt64());
        Assert.All(offsets, p =>
            Assert.Equal(p.GetProperty("high_watermark").GetInt64() - p.GetProperty("committed_offset").GetInt64(), p.GetProperty("lag").GetInt64()));
    }

    [Fact]
    public async Task Groups_without_members_are_deleted_with_their_offsets_and_others_are_refused()
    {
        const string topic = "deleted-groups";
        const string group = "group-deleted";
        await CreateTopicAsync(topic, partitions: 1);
        await ProduceAsync(topic, 3);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();
        using (var member = new GroupConsumer(fixture.Broker.BootstrapServers, group, topic, PartitionAssignmentStrategy.Range))
        {
            await Eventually.TrueAsync(() => member.Values.Count == 3, "the member consumes everything");
            var refused = await Assert.ThrowsAsync<DeleteGroupsException>(() => admin.DeleteGroupsAsync([group]));
            Assert.Equal(ErrorCode.NonEmptyGroup, Assert.Single(refused.Results).Error.Code);
        }

        await admin.DeleteGroupsAsync([group]);
        Assert.DoesNotContain((await admin.ListConsumerGroupsAsync()).Valid, g => g.GroupId == group);
        var unknown = await Assert.ThrowsAsync<DeleteGroupsException>(() => admin.DeleteGroupsAsync([group]));
        Assert.Equal(ErrorCode.GroupIdNotFound, Assert.Single(unknown.Results).Error.Code);
    }

    [Fact]
    public async Task A_commit_to_a_partition_that_does_not_exist_is_refused_and_the_others_are_kept()
    {
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "committed-real", NumPartitions = 1 }]);
        }
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers, GroupId = "manual-committer", EnableAutoCommit = false,
        }).Build();

        var refused = Assert.ThrowsAny<KafkaException>(() => consumer.Commit(
        [
            new TopicPartitionOffset("committed-real", 0, 5),
            new TopicPartitionOffset("no-such-topic", 0, 5),
            new TopicPartitionOffset("committed-real", 7, 5),
        ]));

        Assert.Equal(ErrorCode.UnknownTopicOrPart, refused.Error.Code);
        Assert.Null(consumer.Committed([new TopicPartition("committed-real", 7)], TimeSpan.FromSeconds(10))
            .SingleOrDefault(c => c.Offset.Value >= 0));
        Assert.Equal(5, consumer.Committed([new TopicPartition("committed-real", 0)], TimeSpan.FromSeconds(10))[0].Offset.Value);
    }

    [Fact]
    public async Task Deleting_a_groups_offsets_forgets_those_partitions_and_refuses_topics_its_members_read()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "forgotten", NumPartitions = 2 }, new TopicSpecification { Name = "read-now", NumPartitions = 1 }]);
        using (var committer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers, GroupId = "forgetful", EnableAutoCommit = false,
        }).Build())
        {
            committer.Commit([new TopicPartitionOffset("forgotten", 0, 3), new TopicPartitionOffset("forgotten", 1, 4)]);
        }

        await admin.DeleteConsumerGroupOffsetsAsync("forgetful", [new TopicPartition("forgotten", 0)]);

        var left = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("forgetful",
            [new TopicPartition("forgotten", 0), new TopicPartition("forgotten", 1)])]);
        var offsets = left[0].Partitions.ToDictionary(p => p.Partition.Value, p => p.Offset.Value);
        Assert.Equal(Offset.Unset.Value, offsets[0]);
        Assert.Equal(4, offsets[1]);

        // A topic the group's members read is theirs: its offsets are not deleted under them.
        using var member = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers, GroupId = "reading", EnableAutoCommit = false,
        }).Build();
        member.Subscribe("read-now");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (member.Assignment.Count == 0 && DateTime.UtcNow < deadline) member.Consume(TimeSpan.FromMilliseconds(100));
        var refused = await Assert.ThrowsAsync<DeleteConsumerGroupOffsetsException>(() =>
            admin.DeleteConsumerGroupOffsetsAsync("reading", [new TopicPartition("read-now", 0)]));
        Assert.Equal(ErrorCode.GroupSubscribedToTopic, refused.Result.Partitions[0].Error.Code);
        member.Close();
    }
}
