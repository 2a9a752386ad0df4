using System.Text;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>One consumed message, with its headers read.</summary>
public sealed class IncomingEvent(ConsumeResult<string, byte[]> result)
{
    public string Topic => result.Topic;

    public string Key => result.Message.Key;

    public string EventType { get; } = MessagingTelemetry.Header(result.Message.Headers, MessageHeaders.EventType) ?? "";

    /// <summary>The producer's id for de-duplication; the position in the log when a producer sent none.</summary>
    public string MessageId { get; } = MessagingTelemetry.Header(result.Message.Headers, MessageHeaders.MessageId)
        ?? $"{result.Topic}/{result.Partition.Value}/{result.Offset.Value}";

    public T As<T>() => EventJson.Deserialize<T>(result.Message.Value);
}

/// <summary>What a service does with the events of its topics, inside its own SQLite transaction.</summary>
public interface IEventHandler
{
    /// <summary>
    /// Handles one event. State changes and outgoing events (through the outbox) go into
    /// <paramref name="transaction"/>, which commits together with the inbox record of this message.
    /// </summary>
    Task HandleAsync(IncomingEvent incoming, SqliteTransaction transaction, CancellationToken cancellationToken);

    /// <summary>Called after the transaction committed, to wake whatever acts on what it wrote.</summary>
    void Committed() { }
}

public sealed record ConsumerSettings<THandler>(string GroupId, IReadOnlyList<string> Topics);

/// <summary>
/// A consumer group member that hands each message to <typeparamref name="THandler"/> exactly once
/// in effect: the inbox drops message ids already handled, the offset is committed only after the
/// handler's transaction (messages that arrived together share one transaction), transient failures are retried with backoff, and a message that keeps
/// failing goes to <c>&lt;topic&gt;.dlq</c> with the error in its headers while consumption goes on.
/// </summary>
public sealed class EventConsumer<THandler>(
    ConsumerSettings<THandler> settings, THandler handler, ServiceDatabase database, Outbox outbox,
    BrokerConnection broker, IProducer<string, byte[]> producer, ILogger<EventConsumer<THandler>> logger)
    : BackgroundService where THandler : IEventHandler
{
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

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => RunAsync(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    /// <summary>Most messages handled in one SQLite transaction: one fsync for all of them under load.</summary>
    private const int MaxBatch = 200;

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(broker.Configure(new ConsumerConfig
        {
            GroupId = settings.GroupId,
            ClientId = settings.GroupId, // named in the broker console and DescribeGroups
            // Only offsets of handled messages are stored; they are committed in the background and
            // on close. After a crash the last half second is delivered again: the inbox drops it.
            EnableAutoCommit = true,
            EnableAutoOffsetStore = false,
            AutoCommitIntervalMs = 500,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 10_000,
            HeartbeatIntervalMs = 1_000,
            SocketNagleDisable = true, // see the producer's settings in MessagingExtensions
        })).Build();
        consumer.Subscribe(settings.Topics);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var batch = new List<ConsumeResult<string, byte[]>>();
                try
                {
                    batch.Add(consumer.Consume(stoppingToken));
                    while (batch.Count < MaxBatch && consumer.Consume(TimeSpan.Zero) is { } next) batch.Add(next);
                }
                catch (ConsumeException ex)
                {
                    logger.LogWarning("Consume from {Topics} failed: {Error}", string.Join(",", settings.Topics), ex.Error.Reason);
                    if (batch.Count == 0) continue;
                }
                await HandleBatchAsync(batch, stoppingToken);
                StoreOffsets(consumer, batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
        }
    }

    private void StoreOffsets(IConsumer<string, byte[]> consumer, List<ConsumeResult<string, byte[]>> batch)
    {
        foreach (var result in batch)
        {
            try
            {
                consumer.StoreOffset(result);
            }
            catch (KafkaException ex)
            {
                // The partition was revoked meanwhile: its next owner gets the message again, and the inbox knows it.
                logger.LogInformation("Offset of {Topic}/{Partition}/{Offset} not stored: {Error}", result.Topic, result.Partition.Value, result.Offset.Value, ex.Error.Reason);
            }
        }
    }

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
        using var activity = MessagingTelemetry.StartProcess(result, settings.GroupId);
        var attempts = 0;
        try
        {
            await _retry.ExecuteAsync(async token =>
            {
                attempts++;
                await HandleOnceAsync(result, token);
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            logger.LogError(ex, "Message {Topic}/{Partition}/{Offset} keeps failing: moved to {DeadLetter}",
                result.Topic, result.Partition.Value, result.Offset.Value, Topics.DeadLetter(result.Topic));
            var headers = new Headers();
            foreach (var header in result.Message.Headers ?? []) headers.Add(header.Key, header.GetValueBytes());
            headers.Add(MessageHeaders.Error, Encoding.UTF8.GetBytes($"{ex.GetType().Name}: {ex.Message}"));
            headers.Add(MessageHeaders.OriginalTopic, Encoding.UTF8.GetBytes(result.Topic));
            headers.Add(MessageHeaders.OriginalPartition, Encoding.UTF8.GetBytes(result.Partition.Value.ToString()));
            headers.Add(MessageHeaders.OriginalOffset, Encoding.UTF8.GetBytes(result.Offset.Value.ToString()));
            headers.Add(MessageHeaders.Attempts, Encoding.UTF8.GetBytes(attempts.ToString()));
            ShopMetrics.DeadLetters.Add(1, new KeyValuePair<string, object?>("messaging.destination.name", result.Topic),
                new KeyValuePair<string, object?>("messaging.consumer.group.name", settings.GroupId));
            await DeadLetterAsync(result, headers, cancellationToken);
        }
    }

    /// <summary>
    /// Sends a message to its dead-letter topic, retrying with back-off for as long as it takes (a
    /// broker that is down now): the message is never dropped, and the service never stops over it.
    /// Consumption of that partition waits meanwhile, which keeps its order.
    /// </summary>
    private async Task DeadLetterAsync(ConsumeResult<string, byte[]> result, Headers headers, CancellationToken cancellationToken) =>
        await _deadLetterRetry.ExecuteAsync(async token => await producer.ProduceAsync(Topics.DeadLetter(result.Topic),
            new Message<string, byte[]> { Key = result.Message.Key, Value = result.Message.Value, Headers = headers }, token), cancellationToken);

    /// <summary>One message on its own; its process span is the caller's, around the retries.</summary>
    private Task HandleOnceAsync(ConsumeResult<string, byte[]> result, CancellationToken cancellationToken) =>
        HandleInOneTransactionAsync([result], spanEach: false, cancellationToken);

    /// <summary>Handles <paramref name="messages"/> in one write transaction, then wakes the outbox relay and the handler.</summary>
    private async Task HandleInOneTransactionAsync(IReadOnlyList<ConsumeResult<string, byte[]>> messages, bool spanEach, CancellationToken cancellationToken)
    {
        using (var write = await database.BeginWriteAsync(cancellationToken))
        {
            foreach (var result in messages)
            {
                using var activity = spanEach ? MessagingTelemetry.StartProcess(result, settings.GroupId) : null;
                await HandleInTransactionAsync(result, write.Transaction, cancellationToken);
            }
            write.Commit();
        }
        outbox.Committed();
        handler.Committed();
    }

    /// <summary>Records the message in the inbox and, the first time only, hands it to the handler.</summary>
    private async Task HandleInTransactionAsync(ConsumeResult<string, byte[]> result, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        var incoming = new IncomingEvent(result);
        var first = ServiceDatabase.Execute(transaction.Connection!,
            "INSERT OR IGNORE INTO consumer_inbox (consumer_group, message_id, handled_at) VALUES ($group, $id, $now)", transaction,
            ("$group", settings.GroupId), ("$id", incoming.MessageId), ("$now", DateTimeOffset.UtcNow.ToString("O"))) == 1;
        if (first) await handler.HandleAsync(incoming, transaction, cancellationToken);
        else logger.LogInformation("Message {MessageId} was handled before: skipped", incoming.MessageId);
    }
}
