using Shop.Broker.Groups;
using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>OffsetFetch v1–4: the group's committed offsets (-1 where none); null topics (v2+) = all of them.</summary>
public sealed class OffsetFetchApi(GroupCoordinator groups) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.OffsetFetch, 1, 4, FlexibleFrom: 6);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var version = request.Version;
        var reader = request.BodyReader();
        var groupId = reader.ReadString();
        var topicCount = reader.ReadArrayLength();
        List<(string Topic, List<int> Partitions)> requested;
        if (topicCount < 0)
        {
            requested = groups.Offsets.Of(groupId).Keys.GroupBy(k => k.Topic)
                .Select(g => (g.Key, g.Select(k => k.Partition).Order().ToList())).ToList();
        }
        else
        {
            requested = new(topicCount);
            for (var t = 0; t < topicCount; t++)
            {
                var topic = reader.ReadString();
                var count = reader.ReadArrayLength(4);
                var partitions = new List<int>(count);
                for (var p = 0; p < count; p++) partitions.Add(reader.ReadInt32());
                requested.Add((topic, partitions));
            }
        }

        if (version >= 3) response.WriteInt32(0); // throttle time
        response.WriteArrayLength(requested.Count);
        foreach (var (topic, partitions) in requested)
        {
            response.WriteString(topic);
            response.WriteArrayLength(partitions.Count);
            foreach (var partition in partitions)
            {
                var committed = groups.Offsets.Get(groupId, new TopicPartitionKey(topic, partition));
                response.WriteInt32(partition);
                response.WriteInt64(committed?.Offset ?? -1);
                response.WriteNullableString(committed?.Metadata ?? "");
                response.WriteInt16((short)ErrorCode.None);
            }
        }
        if (version >= 2) response.WriteInt16((short)ErrorCode.None);
        return ValueTask.FromResult(true);
    }
}
