using Shop.Broker.Protocol;
using Shop.Broker.Storage;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Apis;

/// <summary>
/// Fetch v4–11 (v10+ zstd). Reads and long poll are <see cref="LongPollFetch"/>'s: only records
/// below the high watermark (durable ones under FlushPolicy=always), whole batches within the byte
/// limits. Records are never null. No transactions: the last stable offset is the high watermark.
/// No fetch sessions (clients send id 0, epoch -1).
/// </summary>
public sealed class FetchApi(LogManager logs) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.Fetch, 4, 11, FlexibleFrom: 12);

    private sealed record PartitionFetch(int Partition, long Offset, int MaxBytes, PartitionLog? Log);

    public override async ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var version = request.Version;
        var reader = request.BodyReader();
        _ = reader.ReadInt32(); // replica id
        var maxWaitMs = reader.ReadInt32();
        var minBytes = reader.ReadInt32();
        var maxBytes = reader.ReadInt32();
        _ = reader.ReadInt8(); // isolation level: without transactions both levels read up to the high watermark
        if (version >= 7) { _ = reader.ReadInt32(); _ = reader.ReadInt32(); } // session id, epoch
        var topicCount = reader.ReadArrayLength();
        var topics = new List<(string Name, List<PartitionFetch> Partitions)>(topicCount);
        for (var t = 0; t < topicCount; t++)
        {
            var name = reader.ReadString();
            logs.TryGetTopic(name, out var topic);
            var partitionCount = reader.ReadArrayLength();
            var partitions = new List<PartitionFetch>(partitionCount);
            for (var p = 0; p < partitionCount; p++)
            {
                var index = reader.ReadInt32();
                if (version >= 9) _ = reader.ReadInt32(); // current leader epoch
                var offset = reader.ReadInt64();
                if (version >= 5) _ = reader.ReadInt64(); // follower log start offset
                var partitionMaxBytes = reader.ReadInt32();
                var log = topic is not null && index >= 0 && index < topic.Partitions.Count ? topic.Partitions[index] : null;
                partitions.Add(new PartitionFetch(index, offset, partitionMaxBytes, log));
            }
            topics.Add((name, partitions));
        }
        // Forgotten topics (v7+) and rack id (v11+) only matter with fetch sessions: not read.

        var targets = topics.SelectMany(t => t.Partitions).Select(p => new FetchTarget(p.Log, p.Offset, p.MaxBytes)).ToList();
        var results = await LongPollFetch.ReadAsync(targets, maxBytes, minBytes, TimeSpan.FromMilliseconds(Math.Max(0, maxWaitMs)), TimeProvider.System, cancellationToken);

        response.WriteInt32(0); // throttle time: always 0 (kafkajs would treat it as client throttling)
        if (version >= 7)
        {
            response.WriteInt16((short)ErrorCode.None);
            response.WriteInt32(0); // session id: sessions not used
        }
        response.WriteArrayLength(topics.Count);
        var r = 0;
        foreach (var (name, partitions) in topics)
        {
            response.WriteString(name);
            response.WriteArrayLength(partitions.Count);
            foreach (var partition in partitions)
            {
                var data = results[r++];
                response.WriteInt32(partition.Partition);
                response.WriteInt16((short)ToErrorCode(data.Error));
                response.WriteInt64(data.HighWatermark);
                response.WriteInt64(data.HighWatermark); // last stable offset
                if (version >= 5) response.WriteInt64(data.LogStartOffset);
                response.WriteArrayLength(0); // aborted transactions
                if (version >= 11) response.WriteInt32(-1); // preferred read replica
                response.WriteBytes(data.Records.Span);
                if (data.Records.Length > 0)
                {
                    using var handOver = BrokerTelemetry.StartFetch(name, partition.Partition, data.Records.Span);
                    handOver?.SetTag("messaging.kafka.offset", partition.Offset);
                }
            }
        }
        return true;
    }

    private static ErrorCode ToErrorCode(FetchError error) => error switch
    {
        FetchError.UnknownTopicOrPartition => ErrorCode.UnknownTopicOrPartition,
        FetchError.OffsetOutOfRange => ErrorCode.OffsetOutOfRange,
        _ => ErrorCode.None,
    };
}
