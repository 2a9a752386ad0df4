using Shop.Broker.Groups;
using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>
/// OffsetCommit v2–5. Members commit with their generation; consumers that assign partitions
/// themselves commit with generation -1 and no member id, accepted for groups without members.
/// Answered after the commit is durable in <c>__consumer_offsets</c>.
/// </summary>
public sealed class OffsetCommitApi(GroupCoordinator groups, ILogger<OffsetCommitApi> logger) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.OffsetCommit, 2, 5, FlexibleFrom: 8);

    public override async ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var version = request.Version;
        var reader = request.BodyReader();
        var groupId = reader.ReadString();
        var generation = reader.ReadInt32();
        var memberId = reader.ReadString();
        if (version <= 4) _ = reader.ReadInt64(); // retention time: offsets are kept until the group is deleted
        var topicCount = reader.ReadArrayLength();
        var requested = new List<(string Topic, List<(int Partition, long Offset, string? Metadata)> Partitions)>(topicCount);
        for (var t = 0; t < topicCount; t++)
        {
            var topic = reader.ReadString();
            var count = reader.ReadArrayLength();
            var partitions = new List<(int, long, string?)>(count);
            for (var p = 0; p < count; p++) partitions.Add((reader.ReadInt32(), reader.ReadInt64(), reader.ReadNullableString()));
            requested.Add((topic, partitions));
        }

        var error = groupId.Length == 0 ? ErrorCode.InvalidGroupId : groups.GetOrCreate(groupId).CheckCommit(memberId, generation);
        if (error == ErrorCode.None)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var commits = requested
                .SelectMany(t => t.Partitions.Select(p => (new TopicPartitionKey(t.Topic, p.Partition), new CommittedOffset(p.Offset, p.Metadata, now))))
                .ToList();
            try
            {
                await groups.Offsets.CommitAsync(groupId, commits, cancellationToken);
            }
            catch (IOException ex)
            {
                logger.LogError(ex, "Committing offsets of group {Group} failed", groupId);
                error = ErrorCode.KafkaStorageError;
            }
        }

        if (version >= 3) response.WriteInt32(0); // throttle time
        response.WriteArrayLength(requested.Count);
        foreach (var (topic, partitions) in requested)
        {
            response.WriteString(topic);
            response.WriteArrayLength(partitions.Count);
            foreach (var (partition, _, _) in partitions)
            {
                response.WriteInt32(partition);
                response.WriteInt16((short)error);
            }
        }
        return true;
    }
}
