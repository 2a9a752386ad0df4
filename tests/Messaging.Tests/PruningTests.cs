using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Shop.Contracts.StockLevels;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Messaging.Tests;

/// <summary>The outbox and the inbox shrink, on a clock the test moves, with topic retention read from a real broker.</summary>
public sealed class PruningTests
{
    /// <summary>An event of a topic kept two hours.</summary>
    private sealed record ShortLived(string Id) : IShopEvent
    {
        public static TopicSpec Topic { get; } = new("short-lived", 1);
        public string PartitionKey() => Id;
    }

    private sealed class Ignore<TEvent> : IEventHandler<TEvent> where TEvent : IShopEvent
    {
        public Task HandleAsync(TEvent @event, EventContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Messaging:Outbox:KeepSentFor"] = "01:00:00",
        ["Messaging:Inbox:Margin"] = "01:00:00",
    };

    [Fact]
    public async Task Sent_outbox_rows_go_after_their_age_and_unsent_ones_never()
    {
        await using var broker = await BrokerProcess.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T00:00:00Z"));
        await using var setup = await MessagingSetup.StartAsync(broker, clock, Settings);
        await using (var write = await setup.Database.BeginWriteAsync(CancellationToken.None))
        {
            for (var level = 1; level <= 3; level++) setup.Outbox.Enqueue(write, new StockLevelChanged("535", level));
            await write.CommitAsync();
        }
        // The first two were published at midnight; the third is still waiting (a broker that is down, say).
        await using (var write = await setup.Database.BeginWriteAsync(CancellationToken.None))
        {
            write.Execute("UPDATE outbox SET sent_at = $now WHERE id <= 2", ("$now", clock.GetUtcNow().ToString("O")));
            await write.CommitAsync();
        }
        var pruner = Pruner(setup, clock);

        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, (await pruner.PruneAsync(CancellationToken.None)).Outbox);
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(2, (await pruner.PruneAsync(CancellationToken.None)).Outbox);
        clock.Advance(TimeSpan.FromDays(30));
        await pruner.PruneAsync(CancellationToken.None);
        Assert.Equal(1, setup.Scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"));
        Assert.Equal(1, setup.Scalar("SELECT COUNT(*) FROM outbox"));
    }

    [Fact]
    public async Task An_inbox_id_outlives_its_topics_retention_so_a_redelivery_within_it_is_still_dropped()
    {
        await using var broker = await BrokerProcess.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T00:00:00Z"));
        await using var setup = await MessagingSetup.StartAsync(broker, clock, Settings);
        using (var admin = new AdminClientBuilder(setup.Connection.Admin(new AdminClientConfig())).Build())
        {
            await admin.CreateTopicsAsync(
            [
                new TopicSpecification { Name = ShortLived.Topic.Name, NumPartitions = 1, Configs = new() { ["retention.ms"] = "7200000" } },
                new TopicSpecification { Name = StockLevelsTopic.Spec.Name, NumPartitions = 1, Configs = StockLevelsTopic.Spec.Configs.ToDictionary() },
            ]);
        }
        var shortLived = Message(ShortLived.Topic.Name, "m-1");
        var level = Message(StockLevelsTopic.Spec.Name, "m-2");
        Assert.True(await RecordAsync(setup, shortLived));
        Assert.True(await RecordAsync(setup, level));
        var pruner = Pruner(setup, clock);

        // Within retention (2 h) plus the margin (1 h), the log may deliver it again: still a duplicate.
        clock.Advance(TimeSpan.FromHours(2.9));
        await pruner.PruneAsync(CancellationToken.None);
        Assert.False(await RecordAsync(setup, shortLived));

        // Past them the log no longer holds the message: its id may go.
        clock.Advance(TimeSpan.FromHours(0.2));
        Assert.Equal(1, (await pruner.PruneAsync(CancellationToken.None)).Inbox);
        Assert.Equal(0, setup.Scalar($"SELECT COUNT(*) FROM consumer_inbox WHERE topic = '{ShortLived.Topic.Name}'"));

        // A compacted topic keeps a key's latest record for ever: its ids are never dropped.
        clock.Advance(TimeSpan.FromDays(365));
        await pruner.PruneAsync(CancellationToken.None);
        Assert.False(await RecordAsync(setup, level));
    }

    private static MessagingPruner Pruner(MessagingSetup setup, TimeProvider clock)
    {
        var group = new ConsumerGroup("pruned");
        group.Add<ShortLived, Ignore<ShortLived>>();
        group.Add<StockLevelChanged, Ignore<StockLevelChanged>>();
        return new MessagingPruner(setup.Database, [group], setup.Connection, setup.Configuration, clock, NullLogger<MessagingPruner>.Instance);
    }

    private static IncomingEvent Message(string topic, string messageId)
    {
        var headers = new Headers { { MessageHeaders.MessageId, System.Text.Encoding.UTF8.GetBytes(messageId) } };
        return new IncomingEvent(new ConsumeResult<string, byte[]>
        {
            Topic = topic, Partition = 0, Offset = 0, Message = new Message<string, byte[]> { Key = "k", Value = [], Headers = headers },
        });
    }

    private static async Task<bool> RecordAsync(MessagingSetup setup, IncomingEvent message)
    {
        await using var write = await setup.Database.BeginWriteAsync(CancellationToken.None);
        var first = setup.Inbox.TryRecord(write, "pruned", message);
        await write.CommitAsync();
        return first;
    }
}
