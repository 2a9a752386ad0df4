using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// DeleteRecords v0–1: moves each partition's log start offset up to the offset given (-1: the high
/// watermark), durably, and answers the new low watermark. Offsets beyond the high watermark are refused.
/// Needs DELETE on the topic.
/// </summary>
public sealed class DeleteRecordsApi(LogManager logs) : KafkaApi<DeleteRecordsRequest, DeleteRecordsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DeleteRecords, 0, 1, DeleteRecordsRequest.FlexibleFrom);

    protected override ValueTask<DeleteRecordsResponse?> HandleAsync(DeleteRecordsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var response = new DeleteRecordsResponse();
        foreach (var topic in request.Topics)
        {
            var result = new DeleteRecordsResponse.DeleteRecordsTopicResult { Name = topic.Name };
            foreach (var partition in topic.Partitions)
            {
                var (error, lowWatermark) = context.AllowsOnTopic(AclOperation.Delete, topic.Name)
                    ? Delete(topic.Name, partition.PartitionIndex, partition.Offset)
                    : (ErrorCode.TopicAuthorizationFailed, -1);
                result.Partitions.Add(new DeleteRecordsResponse.DeleteRecordsPartitionResult
                {
                    PartitionIndex = partition.PartitionIndex, LowWatermark = lowWatermark, ErrorCode = (short)error,
                });
            }
            response.Topics.Add(result);
        }
        return ValueTask.FromResult<DeleteRecordsResponse?>(response);
    }

    private (ErrorCode Error, long LowWatermark) Delete(string topicName, int partition, long offset)
    {
        if (!logs.TryGetTopic(topicName, out var topic) || partition < 0 || partition >= topic.Partitions.Count)
            return (ErrorCode.UnknownTopicOrPartition, -1);
        try
        {
            return (ErrorCode.None, topic.Partitions[partition].DeleteRecordsBefore(offset));
        }
        catch (Exception ex) when (ex is OffsetOutOfRangeException or IOException or PartitionClosedException)
        {
            return (ErrorMapping.ToErrorCode(ex), -1);
        }
    }
}
