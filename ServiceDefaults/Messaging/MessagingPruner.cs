using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// Keeps the outbox and the inbox from growing for ever. Sent outbox rows go after
/// <c>Messaging:Outbox:KeepSentFor</c> (1 hour): once acknowledged they are in the log, and the
/// table only shows recent traffic. Rows set aside as undeliverable (<c>failed_reason</c>, see
/// <see cref="OutboxRelay"/>) stay: they are the only copy of an event that never went out. An inbox id stays while its topic can still deliver the message
/// again: the topic's <c>retention.ms</c> plus <c>Messaging:Inbox:Margin</c> (1 hour), read from the
/// broker; ids of compacted topics or topics kept for ever are never dropped. Runs every
/// <c>Messaging:Pruning:Interval</c> (10 minutes).
/// </summary>
public sealed class MessagingPruner(
    ServiceDatabase database, IEnumerable<ConsumerGroup> groups, BrokerConnection broker, IConfiguration configuration,
    TimeProvider time, ILogger<MessagingPruner> logger) : BackgroundService
{
    /// <summary>Kafka's default retention.ms, for topics whose retention the broker does not tell us (and inbox ids of older files, which lack the topic).</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(7);

    private TimeSpan Setting(string key, TimeSpan fallback) => configuration.GetValue(key, fallback);

    public TimeSpan KeepSentFor => Setting("Messaging:Outbox:KeepSentFor", TimeSpan.FromHours(1));

    public TimeSpan Margin => Setting("Messaging:Inbox:Margin", TimeSpan.FromHours(1));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = Setting("Messaging:Pruning:Interval", TimeSpan.FromMinutes(10));
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                await PruneAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Pruning the outbox and inbox failed, trying again in {Interval}: {Error}", interval, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass: returns how many outbox rows and inbox ids were dropped.</summary>
    public async Task<(int Outbox, int Inbox)> PruneAsync(CancellationToken cancellationToken)
    {
        var topics = groups.SelectMany(g => g.Topics).Distinct().ToList();
        var windows = await InboxWindowsAsync(topics, cancellationToken);
        var now = time.GetUtcNow();
        await using var write = await database.BeginWriteAsync(cancellationToken);
        var outbox = write.Execute("DELETE FROM outbox WHERE sent_at IS NOT NULL AND failed_reason IS NULL AND sent_at < $cutoff", ("$cutoff", (now - KeepSentFor).ToString("O")));
        var inbox = 0;
        foreach (var (topic, window) in windows)
        {
            if (window is { } keep) inbox += write.Execute("DELETE FROM consumer_inbox WHERE topic = $topic AND handled_at < $cutoff", ("$topic", topic), ("$cutoff", (now - keep).ToString("O")));
        }
        inbox += write.Execute("DELETE FROM consumer_inbox WHERE topic IS NULL AND handled_at < $cutoff", ("$cutoff", (now - DefaultRetention - Margin).ToString("O")));
        await write.CommitAsync();
        if (outbox + inbox > 0) logger.LogInformation("Pruned {Outbox} sent outbox rows and {Inbox} inbox ids", outbox, inbox);
        return (outbox, inbox);
    }

    /// <summary>How long an inbox id of each topic is kept: its retention plus the margin; null for ever.</summary>
    private async Task<Dictionary<string, TimeSpan?>> InboxWindowsAsync(IReadOnlyList<string> topics, CancellationToken cancellationToken)
    {
        var windows = topics.ToDictionary(t => t, t => (TimeSpan?)(DefaultRetention + Margin));
        if (topics.Count == 0) return windows;
        try
        {
            using var admin = new AdminClientBuilder(broker.Admin(new AdminClientConfig())).Build();
            var results = await admin.DescribeConfigsAsync(topics.Select(t => new ConfigResource { Type = ResourceType.Topic, Name = t }),
                new DescribeConfigsOptions { RequestTimeout = TimeSpan.FromSeconds(10) }).WaitAsync(cancellationToken);
            foreach (var result in results)
            {
                var entries = result.Entries;
                windows[result.ConfigResource.Name] = InboxWindow(
                    entries.TryGetValue("cleanup.policy", out var policy) ? policy.Value : "delete",
                    entries.TryGetValue("retention.ms", out var retention) && long.TryParse(retention.Value, out var ms) ? ms : (long)DefaultRetention.TotalMilliseconds,
                    Margin);
            }
        }
        catch (KafkaException ex)
        {
            logger.LogWarning("Topic retention not known ({Error}); inbox ids are kept {Window}", ex.Message, DefaultRetention + Margin);
        }
        return windows;
    }

    /// <summary>A compacted topic can deliver a record again as long as it is its key's latest, and -1 keeps records for ever: then ids are kept for ever.</summary>
    public static TimeSpan? InboxWindow(string cleanupPolicy, long retentionMs, TimeSpan margin) =>
        cleanupPolicy.Contains("compact", StringComparison.OrdinalIgnoreCase) || retentionMs < 0 ? null : TimeSpan.FromMilliseconds(retentionMs) + margin;
}
