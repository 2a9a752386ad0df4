using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>The Kafka error code and message for a storage outcome.</summary>
public static class ErrorMapping
{
    public static ErrorCode ToErrorCode(Exception exception) => exception switch
    {
        CorruptRecordException => ErrorCode.CorruptMessage,
        OffsetOutOfRangeException => ErrorCode.OffsetOutOfRange,
        RecordTooLargeException => ErrorCode.MessageTooLarge,
        OutOfOrderSequenceException => ErrorCode.OutOfOrderSequenceNumber,
        InvalidProducerEpochException => ErrorCode.InvalidProducerEpoch,
        TopicExistsException => ErrorCode.TopicAlreadyExists,
        InvalidTopicException => ErrorCode.InvalidTopicException,
        InvalidConfigException => ErrorCode.InvalidConfig,
        InternalTopicException => ErrorCode.InvalidRequest,
        InvalidPartitionsException => ErrorCode.InvalidPartitions,
        PartitionClosedException => ErrorCode.UnknownTopicOrPartition,
        IOException => ErrorCode.KafkaStorageError,
        _ => ErrorCode.UnknownServerError,
    };
}
