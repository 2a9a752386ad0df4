using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;

namespace Shop.Broker.Apis;

/// <summary>
/// OffsetCommit v2–5. Members commit with their generation; consumers that assign partitions
/// themselves commit with generation -1 and no member id, accepted for groups without members.
/// Answered after the commit is durable in <c>__consumer_offsets</c>. The retention time (v2–4) is
/// ignored: offsets are kept until the group is deleted.
/// </summary>
public sealed class OffsetCommitApi(GroupCoordinator groups, ILogger<OffsetCommitApi> logger) : KafkaApi<OffsetCommitRequest, OffsetCommitResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.OffsetCommit, 2, 5, OffsetCommitRequest.FlexibleFrom);

    protected override async ValueTask<OffsetCommitResponse?> HandleAsync(OffsetCommitRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var groupId = request.GroupId;
        var error = groupId.Length == 0 ? ErrorCode.InvalidGroupId
            : groups.GetOrCreate(groupId).CheckCommit(request.MemberId, request.GenerationIdOrMemberEpoch);
        if (error == ErrorCode.None)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var commits = request.Topics
                .SelectMany(t => t.Partitions.Select(p =>
                    (new TopicPartitionKey(t.Name, p.PartitionIndex), new CommittedOffset(p.CommittedOffset, p.CommittedMetadata, now))))
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
                    .Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)error })
                    .ToList(),
            }).ToList(),
        };
    }
}
