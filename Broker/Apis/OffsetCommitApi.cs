using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// OffsetCommit v2–9 (v6+ carry the leader epoch of the committed position, kept and answered by
/// OffsetFetch; v7+ the group instance id of a static member, fenced when a newer instance took its
/// place; v8+ flexible; v9 is v8 for the new consumer protocol, whose member epoch we read as the
/// classic generation). Members commit with their generation; consumers that assign partitions
/// themselves commit with generation -1 and no member id, accepted for groups without members.
/// Answered after the commit is durable in <c>__consumer_offsets</c>. The retention time (v2–4) is
/// ignored: offsets are kept until the group is deleted. Needs READ on the group and on each topic. A partition that does not exist is refused
/// with UNKNOWN_TOPIC_OR_PARTITION, as Kafka does, and the others are committed.
/// </summary>
public sealed class OffsetCommitApi(GroupCoordinator groups, Storage.LogManager logs, ILogger<OffsetCommitApi> logger) : KafkaApi<OffsetCommitRequest, OffsetCommitResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.OffsetCommit, 2, 9, OffsetCommitRequest.FlexibleFrom);

    protected override async ValueTask<OffsetCommitResponse?> HandleAsync(OffsetCommitRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var groupId = request.GroupId;
        var error = groupId.Length == 0 ? ErrorCode.InvalidGroupId
            : !context.AllowsOnGroup(AclOperation.Read, groupId) ? ErrorCode.GroupAuthorizationFailed
            : groups.GetOrCreate(groupId).CheckCommit(request.MemberId, request.GroupInstanceId, request.GenerationIdOrMemberEpoch);
        if (error == ErrorCode.None)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var commits = request.Topics
                .Where(t => context.AllowsOnTopic(AclOperation.Read, t.Name))
                .SelectMany(t => t.Partitions.Where(p => Exists(t.Name, p.PartitionIndex)).Select(p =>
                    (new TopicPartitionKey(t.Name, p.PartitionIndex), new CommittedOffset(p.CommittedOffset, p.CommittedMetadata, now, p.CommittedLeaderEpoch))))
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

        return new OffsetCommitResponse
        {
            Topics = request.Topics.Select(t => new OffsetCommitResponse.OffsetCommitResponseTopic
            {
                Name = t.Name,
                Partitions = t.Partitions
                    .Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition
                    {
                        PartitionIndex = p.PartitionIndex,
                        ErrorCode = (short)(error != ErrorCode.None ? error
                            : !context.AllowsOnTopic(AclOperation.Read, t.Name) ? ErrorCode.TopicAuthorizationFailed
                            : !Exists(t.Name, p.PartitionIndex) ? ErrorCode.UnknownTopicOrPartition
                            : ErrorCode.None),
                    })
                    .ToList(),
            }).ToList(),
        };
    }

    private bool Exists(string topic, int partition) =>
        logs.TryGetTopic(topic, out var log) && partition >= 0 && partition < log.Partitions.Count;
}
