using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// Publishes outbox rows in order with an idempotent producer (acks=all), marking each sent after
/// the broker acknowledged it. A crash between the two sends it again: consumers drop the duplicate
/// through their inbox (same message-id).
/// </summary>
public sealed class OutboxRelay(ServiceDatabase database, WakeSignal signal, IProducer<string, byte[]> producer, ILogger<OutboxRelay> logger)
    : BackgroundService
{
    private sealed record Row(long Id, string Topic, string Key, string EventType, string MessageId, byte[] Payload, string? TraceParent, string? TraceState);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var rows = Pending();
                if (rows.Count > 0) await PublishAsync(rows, stoppingToken);
                else await signal.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is KafkaException or SqliteException)
            {
                logger.LogWarning("Outbox relay will retry: {Error}", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private List<Row> Pending()
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, topic, key, event_type, message_id, payload, traceparent, tracestate FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 500";
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
        {
            rows.Add(new Row(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                (byte[])reader[5], reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
        return rows;
    }

    /// <summary>
    /// Hands every pending row to the producer at once, in outbox order (the idempotent producer keeps
    /// that order per partition), so that they share batches and the broker's fsyncs; then marks the
    /// acknowledged ones sent in one transaction. Rows that failed stay pending for the next round.
    /// </summary>
    private async Task PublishAsync(List<Row> rows, CancellationToken cancellationToken)
    {
        var sends = rows.Select(row => (row.Id, Sent: PublishOneAsync(row, cancellationToken))).ToList();
        var sent = new List<long>(rows.Count);
        Exception? failure = null;
        foreach (var (id, task) in sends)
        {
            try
            {
                await task;
                sent.Add(id);
            }
            catch (Exception ex) when (ex is KafkaException)
            {
                failure ??= ex;
            }
        }
        if (sent.Count > 0)
        {
            using var write = await database.BeginWriteAsync(cancellationToken);
            var now = DateTimeOffset.UtcNow.ToString("O");
            foreach (var id in sent)
            {
                ServiceDatabase.Execute(write.Connection, "UPDATE outbox SET sent_at = $now WHERE id = $id", write.Transaction, ("$now", now), ("$id", id));
            }
            write.Commit();
        }
        if (failure is not null) throw failure;
    }

    private async Task PublishOneAsync(Row row, CancellationToken cancellationToken)
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
        }
        catch (KafkaException ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }
}
