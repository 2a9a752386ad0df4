using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// OffsetFetch v1–7: the group's committed offsets (-1 where none) with their leader epochs (v5+);
/// null topics (v2+) = all of them; v6+ flexible; v7's RequireStable needs no wait, as no
/// transaction ever holds offsets pending. v8+ (many groups in one request) is not advertised.
/// Needs DESCRIBE on the group; topics it may not describe are left out of "all" and refused when named.
/// </summary>
public sealed class OffsetFetchApi(GroupCoordinator groups) : KafkaApi<OffsetFetchRequest, OffsetFetchResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.OffsetFetch, 1, 7, OffsetFetchRequest.FlexibleFrom);

    protected override ValueTask<OffsetFetchResponse?> HandleAsync(OffsetFetchRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var groupId = request.GroupId;
        if (!context.AllowsOnGroup(AclOperation.Describe, groupId))
            return ValueTask.FromResult<OffsetFetchResponse?>(new OffsetFetchResponse
            {
                ErrorCode = (short)ErrorCode.GroupAuthorizationFailed, // v2+; before that, per partition
                Topics = (request.Topics ?? []).Select(t => new OffsetFetchResponse.OffsetFetchResponseTopic
                {
                    Name = t.Name,
                    Partitions = t.PartitionIndexes.Select(p => new OffsetFetchResponse.OffsetFetchResponsePartition
                    {
                        PartitionIndex = p, CommittedOffset = -1, ErrorCode = (short)ErrorCode.GroupAuthorizationFailed,
                    }).ToList(),
                }).ToList(),
            });
        var requested = request.Topics is null
            ? groups.Offsets.Of(groupId).Keys.Where(k => context.AllowsOnTopic(AclOperation.Describe, k.Topic)).GroupBy(k => k.Topic).Select(g => (Topic: g.Key, Partitions: g.Select(k => k.Partition).Order().ToList())).ToList()
            : request.Topics.Select(t => (Topic: t.Name, Partitions: t.PartitionIndexes)).ToList();

        return ValueTask.FromResult<OffsetFetchResponse?>(new OffsetFetchResponse
        {
            Topics = requested.Select(t => new OffsetFetchResponse.OffsetFetchResponseTopic
            {
                Name = t.Topic,
                Partitions = t.Partitions.Select(partition =>
                {
                    if (!context.AllowsOnTopic(AclOperation.Describe, t.Topic))
                        return new OffsetFetchResponse.OffsetFetchResponsePartition { PartitionIndex = partition, CommittedOffset = -1, ErrorCode = (short)ErrorCode.TopicAuthorizationFailed };
                    var committed = groups.Offsets.Get(groupId, new TopicPartitionKey(t.Topic, partition));
                    return new OffsetFetchResponse.OffsetFetchResponsePartition
                    {
                        PartitionIndex = partition,
                        CommittedOffset = committed?.Offset ?? -1,
                        CommittedLeaderEpoch = committed?.LeaderEpoch ?? -1,
                        Metadata = committed?.Metadata ?? "",
                    };
                }).ToList(),
            }).ToList(),
        });
    }
}
