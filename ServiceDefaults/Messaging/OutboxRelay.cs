using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// Publishes outbox rows in outbox order with an idempotent producer (acks=all) and marks them sent
/// once acknowledged. Rows come from the outbox's in-memory hand-off; the table is read at start,
/// after a failure, and when the hand-off overflowed. A crash between publishing and marking sends a
/// row again: consumers drop the duplicate through their inbox (same message-id).
/// </summary>
/// <remarks>
/// Order per partition: a round hands rows to the producer in outbox order, and stops handing them
/// at the first one the producer refuses at once (a full queue, say); only the acknowledged prefix of
/// each partition is marked sent (<see cref="AcknowledgedPrefix"/>), so a failed row goes out again
/// before its successors. The producer never expires a message (<c>message.timeout.ms=0</c>, see
/// <see cref="MessagingExtensions"/>), so it cannot leave a gap that a later row would jump.
/// </remarks>
public sealed class OutboxRelay(ServiceDatabase database, OutboxHandoff handoff, IProducer<string, byte[]> producer, TimeProvider time, ILogger<OutboxRelay> logger)
    : BackgroundService
{
    private const int MaxRound = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var readTable = true;
        long lastId = 0; // the newest row taken into a round, from the table or the hand-off
        var backOff = TimeSpan.Zero;
        // The previous round's "sent" mark commits while this round is published: a row committed
        // during a round waits for that round's acknowledgements only, not for a SQLite commit too.
        var marking = Task.CompletedTask;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                List<OutboxMessage> round;
                if (readTable | handoff.TakeOverflow())
                {
                    await marking; // or rows being marked would be read as unsent and go out twice
                    round = Unsent();
                    readTable = round.Count == MaxRound;
                }
                else
                {
                    // Rows committed before the table was last read are in the hand-off too.
                    round = (await handoff.TakeAsync(MaxRound, stoppingToken)).Where(r => r.Id > lastId).ToList();
                }
                if (round.Count == 0) continue;
                lastId = Math.Max(lastId, round[^1].Id);
                var (sent, undeliverable, failure) = await PublishRoundAsync(round, stoppingToken);
                await marking; // one mark at a time, in round order
                // Not cancelled by a stop: these rows are acknowledged, and unmarked they would all go out again at the next start.
                if (sent.Count > 0 || undeliverable.Count > 0) marking = MarkAsync(sent, undeliverable, CancellationToken.None);
                if (failure is not null)
                {
                    readTable = true;
                    backOff = TimeSpan.FromMilliseconds(Math.Clamp(backOff.TotalMilliseconds * 2, 100, 5000));
                    logger.LogWarning("Outbox relay: {Failed} of {Count} rows not published ({Error}); trying again in {Delay} ms",
                        round.Count - sent.Count, round.Count, failure.Message, backOff.TotalMilliseconds);
                    await Task.Delay(backOff, time, stoppingToken);
                }
                else backOff = TimeSpan.Zero;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (SqliteException ex)
            {
                marking = Task.CompletedTask; // it failed: its rows go out again from the table, and the inbox drops the copies
                readTable = true;
                logger.LogWarning("Outbox relay will retry: {Error}", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }
        await FinishMarkingAsync(marking);
    }

    /// <summary>On a stop: lets the last round's mark commit (a failed one only means its rows go out again).</summary>
    private async Task FinishMarkingAsync(Task marking)
    {
        try
        {
            await marking;
        }
        catch (SqliteException ex)
        {
            logger.LogWarning("Outbox relay stopped with its last mark not committed ({Error}): those rows go out again at the next start", ex.Message);
        }
    }

    private List<OutboxMessage> Unsent()
    {
        using var connection = database.Open();
        using var command = ServiceDatabase.Command(connection,
            "SELECT id, topic, key, event_type, message_id, payload, traceparent, tracestate FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $limit",
            null, ("$limit", MaxRound));
        using var reader = command.ExecuteReader();
        var rows = new List<OutboxMessage>();
        while (reader.Read())
        {
            rows.Add(new OutboxMessage(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                (byte[])reader[5], reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
        return rows;
    }

    /// <summary>
    /// Hands the round's rows to the producer in outbox order, so that they share batches and the
    /// broker's fsyncs, stopping at the first row refused before it left; then sorts out which rows
    /// may be marked sent. A row the producer refuses at once as too large (over its
    /// message.max.bytes) is undeliverable: retrying cannot help, and it would hold every row behind
    /// it for ever. A broker's "too large", which comes later, is retried: it refuses a whole batch,
    /// which may hold other rows.
    /// </summary>
    private async Task<(List<long> Sent, List<(OutboxMessage Row, string Reason)> Undeliverable, Exception? Failure)> PublishRoundAsync(
        IReadOnlyList<OutboxMessage> rows, CancellationToken cancellationToken)
    {
        var deliveries = new List<(OutboxMessage Row, Task<DeliveryResult<string, byte[]>> Delivery)>(rows.Count);
        var undeliverable = new List<(OutboxMessage, string)>();
        foreach (var row in rows)
        {
            var delivery = PublishOneAsync(row, cancellationToken);
            if (delivery.IsFaulted && delivery.Exception?.InnerException is KafkaException { Error.Code: ErrorCode.MsgSizeTooLarge } tooLarge)
            {
                // Never published, so it cannot be out of order: the rows behind it go on.
                undeliverable.Add((row, tooLarge.Error.Reason));
                continue;
            }
            deliveries.Add((row, delivery));
            if (delivery.IsFaulted) break; // the rest of the round waits behind it for the next one
        }
        var prefix = new AcknowledgedPrefix();
        Exception? failure = null;
        foreach (var (row, delivery) in deliveries)
        {
            try
            {
                var result = await delivery;
                prefix.Acknowledged(row, result.Partition.Value);
            }
            catch (KafkaException ex)
            {
                failure ??= ex;
                prefix.Failed(row, (ex as ProduceException<string, byte[]>)?.DeliveryResult?.Partition.Value ?? Partition.Any.Value);
            }
        }
        return (prefix.Sent, undeliverable, failure);
    }

    private async Task<DeliveryResult<string, byte[]>> PublishOneAsync(OutboxMessage row, CancellationToken cancellationToken)
    {
        // The send belongs to the trace of the request or message that wrote the row.
        using var activity = MessagingTelemetry.StartSend(row.Topic, row.Key, row.MessageId, row.TraceParent, row.TraceState);
        var headers = new Headers
        {
            { MessageHeaders.EventType, Encoding.UTF8.GetBytes(row.EventType) },
            { MessageHeaders.MessageId, Encoding.UTF8.GetBytes(row.MessageId) },
        };
        MessagingTelemetry.Inject(headers, activity);
        try
        {
            var result = await producer.ProduceAsync(row.Topic, new Message<string, byte[]> { Key = row.Key, Value = row.Payload, Headers = headers }, cancellationToken);
            activity?.SetTag("messaging.kafka.offset", result.Offset.Value);
            activity?.SetTag("messaging.destination.partition.id", result.Partition.Value.ToString());
            return result;
        }
        catch (KafkaException ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    /// <summary>
    /// Marks a round's rows sent, and its undeliverable ones set aside (sent_at with failed_reason:
    /// never pruned, never sent). Not fsynced by itself: a mark lost in a power cut only sends its rows
    /// again, which the inboxes drop; the next synced commit of the service makes it durable.
    /// </summary>
    private async Task MarkAsync(List<long> sent, List<(OutboxMessage Row, string Reason)> undeliverable, CancellationToken cancellationToken)
    {
        await using var write = await database.BeginWriteAsync(cancellationToken, syncOnCommit: false);
        var now = time.GetUtcNow().ToString("O");
        // At most one round (MaxRound ids): one statement, the same text every round (prepared once).
        if (sent.Count > 0) write.Execute("UPDATE outbox SET sent_at = $now WHERE id IN (SELECT value FROM json_each($ids))", ("$now", now), ("$ids", $"[{string.Join(",", sent)}]"));
        foreach (var (row, reason) in undeliverable)
        {
            write.Execute("UPDATE outbox SET sent_at = $now, failed_reason = $reason WHERE id = $id", ("$now", now), ("$reason", reason), ("$id", row.Id));
        }
        await write.CommitAsync();
        foreach (var (row, reason) in undeliverable)
        {
            logger.LogError("Outbox relay: {EventType} {MessageId} for {Topic} ({Bytes} bytes) can never be published: {Reason}. It stays in the outbox (row {Id}, failed_reason) and is not sent; the rows behind it go on",
                row.EventType, row.MessageId, row.Topic, row.Payload.Length, reason, row.Id);
        }
    }
}

/// <summary>
/// Which rows of a round may be marked sent: per partition, only those before its first failure.
/// A row acknowledged after a failed one of its partition is published again behind it (its
/// duplicate is dropped by the inboxes). A failure whose partition is unknown holds the whole topic.
/// </summary>
public sealed class AcknowledgedPrefix
{
    private readonly HashSet<(string Topic, int Partition)> _failedPartitions = [];
    private readonly HashSet<string> _failedTopics = [];

    public List<long> Sent { get; } = [];

    /// <summary>Rows must be reported in outbox order.</summary>
    public void Acknowledged(OutboxMessage row, int partition)
    {
        if (!_failedTopics.Contains(row.Topic) && !_failedPartitions.Contains((row.Topic, partition))) Sent.Add(row.Id);
    }

    public void Failed(OutboxMessage row, int partition)
    {
        if (partition < 0) _failedTopics.Add(row.Topic);
        else _failedPartitions.Add((row.Topic, partition));
    }
}
