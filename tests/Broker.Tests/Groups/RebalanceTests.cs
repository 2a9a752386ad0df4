using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Testing;

namespace Shop.Broker.Tests.Groups;

/// <summary>Rebalances as Confluent.Kafka consumers see them, counted by their assign and revoke callbacks.</summary>
public sealed class RebalanceTests
{
    private sealed class Member(string name) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task? _loop;

        public string Name { get; } = name;
        public ConcurrentQueue<string> Events { get; } = new();
        public volatile int Assigned = -1;
        public volatile Error? Fatal;

        public void Start(string bootstrap, string topic, string? instanceId)
        {
            _loop = Task.Run(() =>
            {
                var config = new ConsumerConfig
                {
                    BootstrapServers = bootstrap, GroupId = "together", GroupInstanceId = instanceId, SessionTimeoutMs = 30_000,
                    EnableAutoCommit = false, PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range,
                };
                using var consumer = new ConsumerBuilder<Ignore, Ignore>(config)
                    .SetPartitionsAssignedHandler((_, partitions) => { Events.Enqueue($"assign {partitions.Count}"); Assigned = partitions.Count; })
                    .SetPartitionsRevokedHandler((_, partitions) => { Events.Enqueue($"revoke {partitions.Count}"); Assigned = -1; })
                    .SetPartitionsLostHandler((_, partitions) => { Events.Enqueue($"lost {partitions.Count}"); Assigned = -1; })
                    .SetErrorHandler((_, error) => { if (error.IsFatal) Fatal = error; })
                    .Build();
                consumer.Subscribe(topic);
                try
                {
                    while (!_stop.IsCancellationRequested && Fatal is null) consumer.Consume(TimeSpan.FromMilliseconds(100));
                    consumer.Close();
                }
                catch (KafkaException ex) when (ex.Error.IsFatal)
                {
                    Fatal = ex.Error; // a fenced consumer is done: librdkafka refuses every call after a fatal error
                }
            });
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            if (_loop is not null) await _loop;
        }

        public void Dispose() => _stop.Dispose();
    }

    private static async Task CreateTopicAsync(string bootstrap, string topic, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions }]);
    }

    [Fact]
    public async Task Three_consumers_started_together_get_one_partition_each_in_one_rebalance()
    {
        await using var broker = await BrokerProcess.StartAsync("--Broker:GroupInitialRebalanceDelayMs=2000");
        await CreateTopicAsync(broker.BootstrapServers, "shared", 3);
        var members = Enumerable.Range(0, 3).Select(i => new Member($"m{i}")).ToList();
        foreach (var member in members) member.Start(broker.BootstrapServers, "shared", instanceId: null);

        await Eventually.TrueAsync(() => members.All(m => m.Assigned == 1), "each consumer has one partition");
        foreach (var member in members) await member.StopAsync();

        // One assignment each, and no revoke before it: no extra rebalance on the way.
        Assert.All(members, m => Assert.Equal("assign 1", m.Events.First()));
        Assert.All(members, m => Assert.DoesNotContain(m.Events.SkipLast(1), e => e.StartsWith("revoke", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_static_member_restarted_within_its_session_gets_its_partition_back_without_a_rebalance()
    {
        await using var broker = await BrokerProcess.StartAsync("--Broker:GroupInitialRebalanceDelayMs=2000");
        await CreateTopicAsync(broker.BootstrapServers, "static", 2);
        using var a = new Member("a");
        using var b = new Member("b");
        a.Start(broker.BootstrapServers, "static", instanceId: "node-a");
        b.Start(broker.BootstrapServers, "static", instanceId: "node-b");
        await Eventually.TrueAsync(() => a.Assigned == 1 && b.Assigned == 1, "a and b have one partition each");

        await b.StopAsync(); // a static member sends no LeaveGroup: its session keeps its place
        using var restarted = new Member("b again");
        restarted.Start(broker.BootstrapServers, "static", instanceId: "node-b");
        await Eventually.TrueAsync(() => restarted.Assigned == 1, "the restarted member has its partition back");
        await a.StopAsync();
        await restarted.StopAsync();

        // a saw nothing in between: the only revoke is from its own close at the end.
        Assert.Equal(["assign 1", "revoke 1"], a.Events);
        Assert.Equal("assign 1", restarted.Events.First());
    }

    [Fact]
    public async Task Of_two_consumers_with_one_instance_id_the_one_replaced_is_fenced_and_the_other_keeps_the_partitions()
    {
        await using var broker = await BrokerProcess.StartAsync("--Broker:GroupInitialRebalanceDelayMs=0");
        await CreateTopicAsync(broker.BootstrapServers, "twins", 2);
        using var older = new Member("older");
        older.Start(broker.BootstrapServers, "twins", instanceId: "node-1");
        await Eventually.TrueAsync(() => older.Assigned == 2, "the first consumer has both partitions");

        // A second process started with the same group.instance.id (a copy-paste in a deployment):
        // as in Kafka, the newer one takes the member's place and the older one is fenced at its
        // next heartbeat, with an error that stops it, instead of both taking turns for ever.
        using var newer = new Member("newer");
        newer.Start(broker.BootstrapServers, "twins", instanceId: "node-1");
        await Eventually.TrueAsync(() => older.Fatal is not null, "the older consumer is fenced");
        await Eventually.TrueAsync(() => newer.Assigned == 2, "the newer consumer has both partitions");
        await newer.StopAsync();
        await older.StopAsync();

        Assert.Equal(ErrorCode.FencedInstanceId, older.Fatal!.Code);
        Assert.Null(newer.Fatal);
        Assert.Equal(["assign 2", "revoke 2"], newer.Events); // one assignment, then its own close: no rebalance in between
    }
}
