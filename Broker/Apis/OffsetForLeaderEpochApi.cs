using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// OffsetForLeaderEpoch v0–4: where a leader epoch ends, so that a consumer can check that the
/// position it committed (with that epoch, OffsetFetch v5+) still lies in the log. librdkafka asks
/// as soon as a committed epoch reaches it. One node leads every partition in epoch
/// <see cref="PartitionLog.LeaderEpoch"/> forever: that epoch ends at the log end offset, a later
/// one is unknown (-1, -1), and a client that believes in a later current epoch than ours is told
/// UNKNOWN_LEADER_EPOCH, as Kafka does. Needs DESCRIBE on the topic.
/// </summary>
public sealed class OffsetForLeaderEpochApi(LogManager logs) : KafkaApi<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.OffsetForLeaderEpoch, 0, 4, OffsetForLeaderEpochRequest.FlexibleFrom);

    protected override ValueTask<OffsetForLeaderEpochResponse?> HandleAsync(OffsetForLeaderEpochRequest request, KafkaRequest context, CancellationToken cancellationToken) =>
        ValueTask.FromResult<OffsetForLeaderEpochResponse?>(new OffsetForLeaderEpochResponse
        {
            Topics = request.Topics.Select(topic => new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult
            {
                Topic = topic.Topic,
                Partitions = topic.Partitions.Select(p => context.AllowsOnTopic(AclOperation.Describe, topic.Topic)
                    ? EndOf(topic.Topic, p)
                    : new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = p.Partition, ErrorCode = (short)ErrorCode.TopicAuthorizationFailed }).ToList(),
            }).ToList(),
        });

    private OffsetForLeaderEpochResponse.EpochEndOffset EndOf(string topicName, OffsetForLeaderEpochRequest.OffsetForLeaderPartition requested)
    {
        var answer = new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = requested.Partition, LeaderEpoch = -1, EndOffset = -1 };
        if (!logs.TryGetTopic(topicName, out var topic) || requested.Partition < 0 || requested.Partition >= topic.Partitions.Count)
            answer.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
        else if (requested.CurrentLeaderEpoch > PartitionLog.LeaderEpoch)
            answer.ErrorCode = (short)ErrorCode.UnknownLeaderEpoch;
        else if (requested.LeaderEpoch <= PartitionLog.LeaderEpoch)
        {
            answer.LeaderEpoch = PartitionLog.LeaderEpoch;
            answer.EndOffset = topic.Partitions[requested.Partition].LogEndOffset;
        }
        return answer;
    }
}
