using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.Contracts.StockLevels;
using Shop.ServiceDefaults.Messaging;
using Shop.Testing;

namespace Shop.Messaging.Tests;

public sealed class OutboxRelayTests
{
    [Fact]
    public async Task When_the_second_of_three_rows_for_one_partition_fails_once_the_consumer_still_sees_them_in_outbox_order()
    {
        await using var broker = await BrokerProcess.StartAsync();
        await using var setup = await MessagingSetup.StartAsync(broker);
        await CreateStockLevelsTopicAsync(setup);
        // Three absolute levels of one product, in one transaction: one round of the relay, one partition.
        await EnqueueLevelsAsync(setup, 10, 9, 8);

        using var producer = new FailingProducer(setup.NewProducer(), failSend: n => n == 2);
        var relay = new OutboxRelay(setup.Database, setup.Handoff, producer, TimeProvider.System, NullLogger<OutboxRelay>.Instance);
        await relay.StartAsync(CancellationToken.None);
        try
        {
            var seen = await ReadAsync(broker, StockLevelsTopic.Spec.Name, expectedDistinct: 3);
            Assert.Equal(1, producer.Refused);
            // Duplicates are allowed (the inboxes drop them); a level after a later one is not.
            var firstDeliveries = seen.DistinctBy(m => m.MessageId).Select(m => m.Quantity).ToList();
            Assert.Equal([10, 9, 8], firstDeliveries);
            Assert.Equal(8, seen[^1].Quantity);
            await Eventually.TrueAsync(() => setup.Scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0, "every row marked sent");
        }
        finally
        {
            await relay.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_row_too_large_for_the_producer_is_set_aside_and_the_rows_behind_it_still_go_out_in_order()
    {
        await using var broker = await BrokerProcess.StartAsync();
        await using var setup = await MessagingSetup.StartAsync(broker);
        await CreateStockLevelsTopicAsync(setup);
        await using (var write = await setup.Database.BeginWriteAsync(CancellationToken.None))
        {
            setup.Outbox.Enqueue(write, new StockLevelChanged("535", 10));
            // Between the two: an event of 2 MB, over the producer's message.max.bytes (1 MB). It used to
            // be retried for ever, and every row behind it waited with it.
            write.Execute("""
                INSERT INTO outbox (topic, key, event_type, message_id, payload, created_at)
                SELECT topic, key, event_type, 'too-large', zeroblob(2000000), created_at FROM outbox ORDER BY id LIMIT 1
                """);
            setup.Outbox.Enqueue(write, new StockLevelChanged("535", 8));
            await write.CommitAsync();
        }

        using var producer = setup.NewProducer();
        var relay = new OutboxRelay(setup.Database, setup.Handoff, producer, TimeProvider.System, NullLogger<OutboxRelay>.Instance);
        await relay.StartAsync(CancellationToken.None);
        try
        {
            var seen = await ReadAsync(broker, StockLevelsTopic.Spec.Name, expectedDistinct: 2);
            Assert.Equal([10, 8], seen.DistinctBy(m => m.MessageId).Select(m => m.Quantity).ToList());
            await Eventually.TrueAsync(() => setup.Scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0, "every row marked");
            Assert.Equal(1, setup.Scalar("SELECT COUNT(*) FROM outbox WHERE message_id = 'too-large' AND failed_reason LIKE '%too large%'"));
            Assert.Equal(2, setup.Scalar("SELECT COUNT(*) FROM outbox WHERE failed_reason IS NULL"));
        }
        finally
        {
            await relay.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_relay_stopped_while_its_last_round_waits_to_be_marked_still_marks_it_so_nothing_goes_out_twice()
    {
        await using var broker = await BrokerProcess.StartAsync();
        await using var setup = await MessagingSetup.StartAsync(broker);
        await CreateStockLevelsTopicAsync(setup);
        await EnqueueLevelsAsync(setup, 7, 6);

        using var producer = setup.NewProducer();
        var relay = new OutboxRelay(setup.Database, setup.Handoff, producer, TimeProvider.System, NullLogger<OutboxRelay>.Instance);
        Task stopping;
        // The writer turn is ours: the relay publishes the rows, then its "sent" mark waits for the turn.
        await using (var held = await setup.Database.BeginWriteAsync(CancellationToken.None))
        {
            await relay.StartAsync(CancellationToken.None);
            await ReadAsync(broker, StockLevelsTopic.Spec.Name, expectedDistinct: 2);
            stopping = relay.StopAsync(CancellationToken.None); // the stop is signalled before the turn is free
        }
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, setup.Scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"));
    }

    [Fact]
    public void Only_the_acknowledged_prefix_of_each_partition_is_marked_sent()
    {
        static OutboxMessage Row(long id, string topic) => new(id, topic, "k", "E", $"m{id}", [], null, null);
        var prefix = new AcknowledgedPrefix();
        prefix.Acknowledged(Row(1, "a"), partition: 0);
        prefix.Failed(Row(2, "a"), partition: 0);
        prefix.Acknowledged(Row(3, "a"), partition: 0); // after a failure of its partition: sent again behind it
        prefix.Acknowledged(Row(4, "a"), partition: 1);
        prefix.Failed(Row(5, "b"), partition: -1);      // partition unknown: the whole topic waits
        prefix.Acknowledged(Row(6, "b"), partition: 2);
        prefix.Acknowledged(Row(7, "c"), partition: 0);
        Assert.Equal([1L, 4L, 7L], prefix.Sent);
    }

    /// <summary>Stock levels of product 535 into the outbox, in one committed transaction.</summary>
    private static async Task EnqueueLevelsAsync(MessagingSetup setup, params int[] levels)
    {
        await using var write = await setup.Database.BeginWriteAsync(CancellationToken.None);
        foreach (var level in levels) setup.Outbox.Enqueue(write, new StockLevelChanged("535", level));
        await write.CommitAsync();
    }

    /// <summary>stock-levels with one partition: every row of a product in one ordered stream.</summary>
    private static async Task CreateStockLevelsTopicAsync(MessagingSetup setup)
    {
        using var admin = new AdminClientBuilder(setup.Connection.Admin(new AdminClientConfig())).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = StockLevelsTopic.Spec.Name, NumPartitions = 1, Configs = StockLevelsTopic.Spec.Configs.ToDictionary() }]);
    }

    private sealed record Seen(string MessageId, int Quantity);

    private static async Task<List<Seen>> ReadAsync(BrokerProcess broker, string topic, int expectedDistinct)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = $"reader-{Guid.NewGuid():N}", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var seen = new List<Seen>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (seen.DistinctBy(s => s.MessageId).Count() < expectedDistinct)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"saw {seen.Count} records of {topic} within 60 s: {string.Join(", ", seen)}");
            if (await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(200))) is not { } result) continue;
            var id = System.Text.Encoding.UTF8.GetString(result.Message.Headers.GetLastBytes(MessageHeaders.MessageId));
            seen.Add(new Seen(id, EventJson.Deserialize<StockLevelChanged>(result.Message.Value).Quantity));
        }
        consumer.Close();
        return seen;
    }
}
