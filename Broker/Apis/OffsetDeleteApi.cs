using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// OffsetDelete v0 (AdminClient's DeleteConsumerGroupOffsets): forgets a group's committed offsets
/// of some partitions, durably. As in Kafka, a partition of a topic that a member of the group is
/// subscribed to is refused with GROUP_SUBSCRIBED_TO_TOPIC; a group without offsets or members is
/// GROUP_ID_NOT_FOUND.
/// </summary>
public sealed class OffsetDeleteApi(GroupCoordinator groups) : KafkaApi<OffsetDeleteRequest, OffsetDeleteResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.OffsetDelete, 0, 0, OffsetDeleteRequest.FlexibleFrom);

    protected override async ValueTask<OffsetDeleteResponse?> HandleAsync(OffsetDeleteRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        if (!context.AllowsOnGroup(AclOperation.Delete, request.GroupId))
            return new OffsetDeleteResponse { ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
        var group = groups.Find(request.GroupId);
        if (group is null && groups.Offsets.Of(request.GroupId).Count == 0)
            return new OffsetDeleteResponse { ErrorCode = (short)ErrorCode.GroupIdNotFound };

        var response = new OffsetDeleteResponse();
        var deletable = new List<TopicPartitionKey>();
        foreach (var topic in request.Topics)
        {
            var subscribed = group?.IsSubscribedTo(topic.Name) == true;
            var readable = context.AllowsOnTopic(AclOperation.Read, topic.Name);
            var answer = new OffsetDeleteResponse.OffsetDeleteResponseTopic { Name = topic.Name };
            foreach (var partition in topic.Partitions)
            {
                answer.Partitions.Add(new OffsetDeleteResponse.OffsetDeleteResponsePartition
                {
                    PartitionIndex = partition.PartitionIndex,
                    ErrorCode = (short)(!readable ? ErrorCode.TopicAuthorizationFailed : subscribed ? ErrorCode.GroupSubscribedToTopic : ErrorCode.None),
                });
                if (readable && !subscribed) deletable.Add(new TopicPartitionKey(topic.Name, partition.PartitionIndex));
            }
            response.Topics.Add(answer);
        }
        try
        {
            await groups.Offsets.DeleteOffsetsAsync(request.GroupId, deletable, cancellationToken);
        }
        catch (IOException)
        {
            return new OffsetDeleteResponse { ErrorCode = (short)ErrorCode.KafkaStorageError };
        }
        return response;
    }
}
