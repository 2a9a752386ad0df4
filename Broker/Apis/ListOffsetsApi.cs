using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Storage;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// ListOffsets v1–3: -1 = latest (the high watermark, which is also the last stable offset without
/// transactions), -2 = earliest (log start offset), otherwise the first record with a timestamp at
/// or after the one asked for (offset -1 when there is none). The isolation level (v2+) changes
/// nothing without transactions. Needs DESCRIBE on the topic.
/// </summary>
public sealed class ListOffsetsApi(Storage.LogManager logs) : KafkaApi<ListOffsetsRequest, ListOffsetsResponse>
{
    public const long Latest = -1;
    public const long Earliest = -2;

    public override ApiVersionRange Versions { get; } = new(ApiKeys.ListOffsets, 1, 3, ListOffsetsRequest.FlexibleFrom);

    protected override ValueTask<ListOffsetsResponse?> HandleAsync(ListOffsetsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var response = new ListOffsetsResponse();
        foreach (var requested in request.Topics)
        {
            var allowed = context.AllowsOnTopic(AclOperation.Describe, requested.Name);
            TopicLog? topic = null;
            if (allowed) logs.TryGetTopic(requested.Name, out topic);
            var topicResponse = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = requested.Name };
            foreach (var partition in requested.Partitions)
            {
                var index = partition.PartitionIndex;
                var answer = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = index, Timestamp = -1, Offset = -1 };
                if (!allowed)
                {
                    answer.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                }
                else if (topic is null || index < 0 || index >= topic.Partitions.Count)
                {
                    answer.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                }
                else
                {
                    var log = topic.Partitions[index];
                    (answer.Offset, answer.Timestamp) = partition.Timestamp switch
                    {
                        Latest => (log.HighWatermark, -1L),
                        Earliest => (log.LogStartOffset, -1L),
                        _ => log.FindOffsetByTimestamp(partition.Timestamp) ?? (-1L, -1L),
                    };
                }
                topicResponse.Partitions.Add(answer);
            }
            response.Topics.Add(topicResponse);
        }
        return ValueTask.FromResult<ListOffsetsResponse?>(response);
    }
}
