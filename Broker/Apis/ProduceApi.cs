using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Storage;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Apis;

/// <summary>
/// Produce v3–7 (record batch v2; v7 allows zstd). acks=-1 (all) is answered only once the records
/// are durable per the flush policy; acks=1 once written; acks=0 gets no response at all. Batches
/// are stored verbatim: never decompressed, never recompressed. The partitions of one request are
/// appended concurrently so that their fsyncs can share a group commit. Every append of a request
/// is done before its handler first waits (for the fsync): the connection relies on that to read the
/// next Produce while this one waits, with appends still in arrival order. Needs WRITE on each topic
/// (TOPIC_AUTHORIZATION_FAILED otherwise, and nothing of that topic is appended).
/// </summary>
public sealed class ProduceApi(LogManager logs, ILogger<ProduceApi> logger) : KafkaApi<ProduceRequest, ProduceResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.Produce, 3, 7, ProduceRequest.FlexibleFrom);

    protected override async ValueTask<ProduceResponse?> HandleAsync(ProduceRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var acks = request.Acks;
        // request.TimeoutMs is not used: appends do not wait on replicas.
        var topics = new List<(string Name, List<Task<ProduceResponse.PartitionProduceResponse>> Partitions)>(request.TopicData.Count);
        foreach (var topicData in request.TopicData)
        {
            logs.TryGetTopic(topicData.Name, out var topic);
            var allowed = context.AllowsOnTopic(Security.AclOperation.Write, topicData.Name);
            if (!allowed) logger.LogWarning("{Principal} may not WRITE topic {Topic}: produce refused", context.Session.Principal, topicData.Name);
            var partitions = topicData.PartitionData
                .Select(p => !allowed ? Task.FromResult(Refused(p.Index, ErrorCode.TopicAuthorizationFailed, -1))
                    : acks is -1 or 0 or 1
                    ? AppendAsync(topic, topicData.Name, p.Index, p.Records, durable: acks == -1, request.TransactionalId, cancellationToken)
                    : Task.FromResult(Refused(p.Index, ErrorCode.InvalidRequiredAcks, -1)))
                .ToList();
            topics.Add((topicData.Name, partitions));
        }

        await Task.WhenAll(topics.SelectMany(t => t.Partitions));
        if (acks == 0) return null;

        // Log append time stays -1 (topics use CreateTime); throttle time 0.
        return new ProduceResponse
        {
            Responses = topics.Select(t => new ProduceResponse.TopicProduceResponse
            {
                Name = t.Name,
                PartitionResponses = t.Partitions.Select(p => p.Result).ToList(),
            }).ToList(),
        };
    }

    private static ProduceResponse.PartitionProduceResponse Refused(int index, ErrorCode error, long logStartOffset) =>
        new() { Index = index, ErrorCode = (short)error, BaseOffset = -1, LogStartOffset = logStartOffset };

    private async Task<ProduceResponse.PartitionProduceResponse> AppendAsync(TopicLog? topic, string name, int index, ReadOnlyMemory<byte>? records,
        bool durable, string? transactionalId, CancellationToken cancellationToken)
    {
        if (topic is null || index < 0 || index >= topic.Partitions.Count)
            return Refused(index, ErrorCode.UnknownTopicOrPartition, -1);
        var partition = topic.Partitions[index];
        if (transactionalId is not null)
        {
            logger.LogWarning("Transactional produce to {Topic}-{Partition} refused: transactions are not supported", name, index);
            return Refused(index, ErrorCode.InvalidRequest, partition.LogStartOffset);
        }
        if (records is not { Length: > 0 } recordSet)
            return Refused(index, ErrorCode.CorruptMessage, partition.LogStartOffset);
        using var activity = BrokerTelemetry.StartProduce(name, index, recordSet.Span);
        try
        {
            // The frame is this request's own buffer (see RequestFrame): the log rewrites the offsets in it instead of copying it.
            var appended = await partition.AppendAsync(System.Runtime.InteropServices.MemoryMarshal.AsMemory(recordSet), durable, cancellationToken);
            activity?.SetTag("messaging.kafka.offset", appended.BaseOffset);
            return new() { Index = index, ErrorCode = (short)ErrorCode.None, BaseOffset = appended.BaseOffset, LogStartOffset = partition.LogStartOffset };
        }
        catch (Exception ex) when (ex is CorruptRecordException or RecordTooLargeException or OutOfOrderSequenceException or InvalidProducerEpochException)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            logger.LogWarning("Produce to {Topic}-{Partition} refused: {Reason}", name, index, ex.Message);
            return Refused(index, ErrorMapping.ToErrorCode(ex), partition.LogStartOffset);
        }
        catch (PartitionClosedException)
        {
            return Refused(index, ErrorCode.UnknownTopicOrPartition, -1);
        }
        catch (KafkaStorageException ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
            logger.LogWarning("Produce to {Topic}-{Partition} refused: {Reason}", name, index, ex.Message);
            return Refused(index, ErrorCode.KafkaStorageError, partition.LogStartOffset);
        }
        catch (IOException ex)
        {
            logger.LogError(ex, "Produce to {Topic}-{Partition} failed to write", name, index);
            return Refused(index, ErrorCode.KafkaStorageError, partition.LogStartOffset);
        }
    }
}
