using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>
/// ListOffsets v1–3: -1 = latest (the high watermark, which is also the last stable offset without
/// transactions), -2 = earliest (log start offset), otherwise the first record with a timestamp at
/// or after the one asked for (offset -1 when there is none).
/// </summary>
public sealed class ListOffsetsApi(Storage.LogManager logs) : KafkaApi
{
    public const long Latest = -1;
    public const long Earliest = -2;

    public override ApiVersionRange Versions { get; } = new(ApiKeys.ListOffsets, 1, 3, FlexibleFrom: 6);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var version = request.Version;
        var reader = request.BodyReader();
        _ = reader.ReadInt32(); // replica id
        if (version >= 2) _ = reader.ReadInt8(); // isolation level
        if (version >= 2) response.WriteInt32(0); // throttle time
        var topicCount = reader.ReadArrayLength();
        response.WriteArrayLength(topicCount);
        for (var t = 0; t < topicCount; t++)
        {
            var name = reader.ReadString();
            logs.TryGetTopic(name, out var topic);
            response.WriteString(name);
            var partitionCount = reader.ReadArrayLength();
            response.WriteArrayLength(partitionCount);
            for (var p = 0; p < partitionCount; p++)
            {
                var index = reader.ReadInt32();
                var timestamp = reader.ReadInt64();
                response.WriteInt32(index);
                if (topic is null || index < 0 || index >= topic.Partitions.Count)
                {
                    response.WriteInt16((short)ErrorCode.UnknownTopicOrPartition);
                    response.WriteInt64(-1);
                    response.WriteInt64(-1);
                    continue;
                }
                var log = topic.Partitions[index];
                var (offset, foundTimestamp) = timestamp switch
                {
                    Latest => (log.HighWatermark, -1L),
                    Earliest => (log.LogStartOffset, -1L),
                    _ => log.FindOffsetByTimestamp(timestamp) ?? (-1L, -1L),
                };
                response.WriteInt16((short)ErrorCode.None);
                response.WriteInt64(foundTimestamp);
                response.WriteInt64(offset);
            }
        }
        return ValueTask.FromResult(true);
    }
}
