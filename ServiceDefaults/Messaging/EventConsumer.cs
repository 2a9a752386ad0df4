using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// A member of one consumer group that hands each message to the group's typed handlers exactly once
/// in effect: the inbox drops message ids already handled, and the offset is stored for commit only
/// after the handlers' transaction (messages that arrived together share one). Transient failures
/// are retried with back-off; a message that does not parse, or keeps failing, goes to
/// <c>&lt;topic&gt;.dlq</c> with the error in its headers while consumption goes on. The blocking
/// <c>Consume</c> runs on a <see cref="ConsumeThread"/>; handling is async.
/// </summary>
public sealed class EventConsumer(
    ConsumerGroup group, IServiceProvider services, ServiceDatabase database, Inbox inbox, BrokerConnection broker,
    IProducer<string, byte[]> producer, ILogger<EventConsumer> logger)
    : BackgroundService
{
    /// <summary>Most messages handled in one SQLite transaction: one fsync for all of them under load.</summary>
    private const int MaxBatch = 200;

    private readonly ResiliencePipeline _deadLetterRetry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(5),
            ShouldHandle = new PredicateBuilder().Handle<KafkaException>(),
            OnRetry = retry =>
            {
                logger.LogWarning("Dead-lettering failed ({Error}); trying again in {Delay} ms", retry.Outcome.Exception?.Message, retry.RetryDelay.TotalMilliseconds);
                return ValueTask.CompletedTask;
            },
        })
        .Build();

    private readonly ResiliencePipeline _retry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 3,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(200),
            // A message that does not parse never will: straight to the dead letters, no retries.
            ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not (OperationCanceledException or System.Text.Json.JsonException)),
        })
        .Build();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var consumer = new ConsumeThread($"consume {group.GroupId}", BuildConsumer, group.Topics, MaxBatch,
            ex => logger.LogWarning("Consume from {Topics} failed: {Error}", string.Join(",", group.Topics), ex.Error.Reason));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var batch = await consumer.NextAsync(stoppingToken);
                await HandleBatchAsync(batch, stoppingToken);
                consumer.StoreOffsets(batch, (result, ex) =>
                    // The partition was revoked meanwhile: its next owner gets the message again, and the inbox knows it.
                    logger.LogInformation("Offset of {Topic}/{Partition}/{Offset} not stored: {Error}", result.Topic, result.Partition.Value, result.Offset.Value, ex.Error.Reason));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private IConsumer<string, byte[]> BuildConsumer() =>
        new ConsumerBuilder<string, byte[]>(broker.Consumer(new ConsumerConfig
        {
            GroupId = group.GroupId,
            ClientId = group.GroupId, // named in the broker console and DescribeGroups
            // Only offsets of handled messages are stored; they are committed in the background and
            // on close. After a crash the last half second is delivered again: the inbox drops it.
            EnableAutoCommit = true,
            EnableAutoOffsetStore = false,
            AutoCommitIntervalMs = 500,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 10_000,
            HeartbeatIntervalMs = 1_000,
            SocketNagleDisable = true, // see the producer's settings in MessagingExtensions
        }.WithBatchWait(group.BatchWait))).Build();

    /// <summary>
    /// Handles what has arrived in one transaction; if any message of it fails, the transaction is
    /// rolled back and each message is handled on its own, with retries and the dead-letter topic.
    /// </summary>
    private async Task HandleBatchAsync(List<ConsumeResult<string, byte[]>> batch, CancellationToken cancellationToken)
    {
        if (batch.Count > 1)
        {
            try
            {
                await HandleInOneTransactionAsync(batch, spanEach: true, cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("A batch of {Count} messages failed ({Error}); handling them one by one", batch.Count, ex.Message);
            }
        }
        foreach (var result in batch) await HandleOrDeadLetterAsync(result, cancellationToken);
    }

    private async Task HandleOrDeadLetterAsync(ConsumeResult<string, byte[]> result, CancellationToken cancellationToken)
    {
        using var activity = MessagingTelemetry.StartProcess(result, group.GroupId);
        var attempts = 0;
        try
        {
            await _retry.ExecuteAsync(async token =>
            {
                attempts++;
                try
                {
                    await HandleInOneTransactionAsync([result], spanEach: false, token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning("Message {Topic}/{Partition}/{Offset} (key {Key}) failed on attempt {Attempt}: {Error}",
                        result.Topic, result.Partition.Value, result.Offset.Value, result.Message.Key, attempts, ex.Message);
                    throw;
                }
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            logger.LogError(ex, "Message {Topic}/{Partition}/{Offset} (key {Key}) keeps failing: moved to {DeadLetter}",
                result.Topic, result.Partition.Value, result.Offset.Value, result.Message.Key, TopicSpec.DeadLetterOf(result.Topic));
            var headers = new Headers();
            foreach (var header in result.Message.Headers ?? []) headers.Add(header.Key, header.GetValueBytes());
            headers.Add(MessageHeaders.Error, Encoding.UTF8.GetBytes($"{ex.GetType().Name}: {ex.Message}"));
            headers.Add(MessageHeaders.OriginalTopic, Encoding.UTF8.GetBytes(result.Topic));
            headers.Add(MessageHeaders.OriginalPartition, Encoding.UTF8.GetBytes(result.Partition.Value.ToString()));
            headers.Add(MessageHeaders.OriginalOffset, Encoding.UTF8.GetBytes(result.Offset.Value.ToString()));
            headers.Add(MessageHeaders.Attempts, Encoding.UTF8.GetBytes(attempts.ToString()));
            ShopMetrics.DeadLetters.Add(1, new KeyValuePair<string, object?>("messaging.destination.name", result.Topic),
                new KeyValuePair<string, object?>("messaging.consumer.group.name", group.GroupId));
            await DeadLetterAsync(result, headers, cancellationToken);
        }
    }

    /// <summary>
    /// Sends a message to its dead-letter topic, retrying with back-off for as long as it takes (a
    /// broker that is down now): the message is never dropped, and the service never stops over it.
    /// Consumption of the group waits meanwhile, which keeps its order.
    /// </summary>
    private async Task DeadLetterAsync(ConsumeResult<string, byte[]> result, Headers headers, CancellationToken cancellationToken) =>
        await _deadLetterRetry.ExecuteAsync(async token => await producer.ProduceAsync(TopicSpec.DeadLetterOf(result.Topic),
            new Message<string, byte[]> { Key = result.Message.Key, Value = result.Message.Value, Headers = headers }, token), cancellationToken);

    /// <summary>Handles <paramref name="messages"/> in one write transaction; the inbox records each, and only a first delivery reaches the handlers.</summary>
    private async Task HandleInOneTransactionAsync(IReadOnlyList<ConsumeResult<string, byte[]>> messages, bool spanEach, CancellationToken cancellationToken)
    {
        // Other services' events on a shared topic are passed over: no transaction, no inbox row.
        var routed = messages.Select(result => new IncomingEvent(result)).Select(message => (Message: message, Routes: group.RoutesOf(message)))
            .Where(m => m.Routes.Count > 0).ToList();
        if (routed.Count == 0) return;
        await using var scope = services.CreateAsyncScope();
        await using var write = await database.BeginWriteAsync(cancellationToken);
        foreach (var (message, routes) in routed)
        {
            using var activity = spanEach ? MessagingTelemetry.StartProcess(message.Consumed, group.GroupId) : null;
            if (group.KeepsInbox && !inbox.TryRecord(write, group.GroupId, message))
            {
                logger.LogInformation("Message {MessageId} was handled before: skipped", message.MessageId);
                continue;
            }
            var context = new EventContext(message, write);
            foreach (var route in routes) await route(scope.ServiceProvider, context, cancellationToken);
        }
        await write.CommitAsync();
    }
}

internal static class BatchWaitConfig
{
    /// <summary>
    /// A batch wait as Kafka's fetch settings: the broker answers when fetch.min.bytes have come or
    /// fetch.wait.max.ms have passed, so a minimum no wait reaches under the shop's load leaves the wait to decide.
    /// </summary>
    public static ConsumerConfig WithBatchWait(this ConsumerConfig config, TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero) return config;
        config.FetchWaitMaxMs = (int)Math.Ceiling(wait.TotalMilliseconds);
        config.FetchMinBytes = 1 << 20;
        return config;
    }
}
