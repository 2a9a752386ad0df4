using Shop.Broker.Protocol;
using Shop.Broker.Storage;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Apis;

/// <summary>
/// Produce v3–7 (record batch v2; v7 allows zstd). acks=-1 (all) is answered only once the records
/// are durable per the flush policy; acks=1 once written; acks=0 gets no response at all. Batches
/// are stored verbatim: never decompressed, never recompressed. The partitions of one request are
/// appended concurrently so that their fsyncs can share a group commit.
/// </summary>
public sealed class ProduceApi(LogManager logs, ILogger<ProduceApi> logger) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.Produce, 3, 7, FlexibleFrom: 9);

    private readonly record struct PartitionResult(int Partition, ErrorCode Error, long BaseOffset, long LogStartOffset);

    public override async ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader();
        var transactionalId = reader.ReadNullableString();
        var acks = reader.ReadInt16();
        _ = reader.ReadInt32(); // timeout: appends do not wait on replicas
        var topicCount = reader.ReadArrayLength();
        var topics = new List<(string Name, List<Task<PartitionResult>> Partitions)>(topicCount);
        for (var t = 0; t < topicCount; t++)
        {
            var name = reader.ReadString();
            var partitionCount = reader.ReadArrayLength();
            var partitions = new List<Task<PartitionResult>>(partitionCount);
            logs.TryGetTopic(name, out var topic);
            for (var p = 0; p < partitionCount; p++)
            {
                var index = reader.ReadInt32();
                var records = reader.ReadNullableBytes();
                partitions.Add(acks is -1 or 0 or 1
                    ? AppendAsync(topic, name, index, records, durable: acks == -1, transactionalId, cancellationToken)
                    : Task.FromResult(new PartitionResult(index, ErrorCode.InvalidRequiredAcks, -1, -1)));
            }
            topics.Add((name, partitions));
        }

        await Task.WhenAll(topics.SelectMany(t => t.Partitions));
        if (acks == 0) return false;

        response.WriteArrayLength(topics.Count);
        foreach (var (name, partitions) in topics)
        {
            response.WriteString(name);
            response.WriteArrayLength(partitions.Count);
            foreach (var task in partitions)
            {
                var result = task.Result;
                response.WriteInt32(result.Partition);
                response.WriteInt16((short)result.Error);
                response.WriteInt64(result.BaseOffset);
                response.WriteInt64(-1); // log append time: topics use CreateTime
                if (request.Version >= 5) response.WriteInt64(result.LogStartOffset);
            }
        }
        response.WriteInt32(0); // throttle time, after the responses in Produce
        return true;
    }

    private async Task<PartitionResult> AppendAsync(TopicLog? topic, string name, int index, ReadOnlyMemory<byte>? records,
        bool durable, string? transactionalId, CancellationToken cancellationToken)
    {
        if (topic is null || index < 0 || index >= topic.Partitions.Count)
            return new PartitionResult(index, ErrorCode.UnknownTopicOrPartition, -1, -1);
        var partition = topic.Partitions[index];
        if (transactionalId is not null)
        {
            logger.LogWarning("Transactional produce to {Topic}-{Partition} refused: transactions are not supported", name, index);
            return new PartitionResult(index, ErrorCode.InvalidRequest, -1, partition.LogStartOffset);
        }
        if (records is not { Length: > 0 } recordSet)
            return new PartitionResult(index, ErrorCode.CorruptMessage, -1, partition.LogStartOffset);
        using var activity = BrokerTelemetry.StartProduce(name, index, recordSet.Span);
        try
        {
            var appended = await partition.AppendAsync(recordSet, durable, cancellationToken);
            activity?.SetTag("messaging.kafka.offset", appended.BaseOffset);
            return new PartitionResult(index, ErrorCode.None, appended.BaseOffset, partition.LogStartOffset);
        }
        catch (Exception ex) when (ex is CorruptRecordException or RecordTooLargeException or OutOfOrderSequenceException or InvalidProducerEpochException)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            logger.LogWarning("Produce to {Topic}-{Partition} refused: {Reason}", name, index, ex.Message);
            return new PartitionResult(index, ErrorMapping.ToErrorCode(ex), -1, partition.LogStartOffset);
        }
        catch (PartitionClosedException)
        {
            return new PartitionResult(index, ErrorCode.UnknownTopicOrPartition, -1, -1);
        }
        catch (KafkaStorageException ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            logger.LogWarning("Produce to {Topic}-{Partition} refused: {Reason}", name, index, ex.Message);
            return new PartitionResult(index, ErrorCode.KafkaStorageError, -1, partition.LogStartOffset);
        }
        catch (IOException ex)
        {
            logger.LogError(ex, "Produce to {Topic}-{Partition} failed to write", name, index);
            return new PartitionResult(index, ErrorCode.KafkaStorageError, -1, partition.LogStartOffset);
        }
    }
}
