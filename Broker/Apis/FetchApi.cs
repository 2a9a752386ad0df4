using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Storage;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Apis;

/// <summary>
/// Fetch v4–11 (v10+ zstd). Reads and long poll are <see cref="LongPollFetch"/>'s: only records
/// below the high watermark (durable ones under FlushPolicy=always), whole batches within the byte
/// limits (only the first partition with data may exceed them, by one batch). Records are never
/// null. No transactions: the last stable offset is the high watermark. No fetch sessions (clients
/// send id 0, epoch -1), so forgotten topics (v7+) and the rack id (v11+) are ignored. Needs READ
/// on each topic (TOPIC_AUTHORIZATION_FAILED otherwise). The records are not copied into the answer:
/// they stay in their segment files (<see cref="SegmentSlice"/>) and are read straight into the
/// socket's memory as the answer is written, so a fetch of megabytes allocates next to nothing and
/// its bytes are copied once in user space instead of three times.
/// </summary>
public sealed class FetchApi(LogManager logs) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.Fetch, 4, 11, FetchRequest.FlexibleFrom);

    public override async ValueTask<bool> HandleAsync(KafkaRequest context, KafkaWriter response, CancellationToken cancellationToken)
    {
        var request = Parse(context);
        var refused = request.Topics.Select(t => t.Topic).Distinct().Where(t => !context.AllowsOnTopic(Security.AclOperation.Read, t)).ToHashSet();
        var results = await FetchAsync(request, refused, cancellationToken);
        // The answer holds the records' segments until it is written (or dropped).
        foreach (var result in results)
        {
            if (result.Owner is { } owner) response.Own(owner);
        }
        Answer(request, refused, results).Write(response, context.Version);
        return true;
    }

    private static FetchRequest Parse(KafkaRequest context)
    {
        var reader = context.BodyReader();
        return FetchRequest.Read(ref reader, context.Version);
    }

    private Task<IReadOnlyList<FetchOutcome>> FetchAsync(FetchRequest request, HashSet<string> refused, CancellationToken cancellationToken)
    {
        // Isolation level: without transactions both levels read up to the high watermark.
        var targets = new List<FetchTarget>();
        foreach (var fetchTopic in request.Topics)
        {
            TopicLog? topic = null;
            if (!refused.Contains(fetchTopic.Topic)) logs.TryGetTopic(fetchTopic.Topic, out topic);
            targets.AddRange(fetchTopic.Partitions.Select(p => new FetchTarget(
                topic is not null && p.Partition >= 0 && p.Partition < topic.Partitions.Count ? topic.Partitions[p.Partition] : null,
                p.FetchOffset, p.PartitionMaxBytes)));
        }
        return LongPollFetch.ReadAsync(targets, request.MaxBytes, request.MinBytes,
            TimeSpan.FromMilliseconds(Math.Max(0, request.MaxWaitMs)), TimeProvider.System, cancellationToken);
    }

    private static FetchResponse Answer(FetchRequest request, HashSet<string> refused, IReadOnlyList<FetchOutcome> results)
    {
        // Throttle time always 0 (kafkajs would treat it as client throttling); session id 0: sessions not used.
        var response = new FetchResponse();
        var r = 0;
        foreach (var fetchTopic in request.Topics)
        {
            var topicResponse = new FetchResponse.FetchableTopicResponse { Topic = fetchTopic.Topic };
            foreach (var partition in fetchTopic.Partitions)
            {
                var data = results[r++];
                topicResponse.Partitions.Add(new FetchResponse.PartitionData
                {
                    PartitionIndex = partition.Partition,
                    ErrorCode = (short)(refused.Contains(fetchTopic.Topic) ? ErrorCode.TopicAuthorizationFailed : ToErrorCode(data.Error)),
                    HighWatermark = data.HighWatermark,
                    LastStableOffset = data.HighWatermark,
                    LogStartOffset = data.LogStartOffset,
                    Records = data.Records,
                });
                if (data.Records.Length > 0)
                {
                    using var handOver = BrokerTelemetry.StartFetch(fetchTopic.Topic, partition.Partition, data.Records);
                    handOver?.SetTag("messaging.kafka.offset", partition.FetchOffset);
                }
            }
            response.Responses.Add(topicResponse);
        }
        return response;
    }

    private static ErrorCode ToErrorCode(FetchError error) => error switch
    {
        FetchError.UnknownTopicOrPartition => ErrorCode.UnknownTopicOrPartition,
        FetchError.OffsetOutOfRange => ErrorCode.OffsetOutOfRange,
        _ => ErrorCode.None,
    };
}
