using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// Metadata v1–6. Advertises the address clients really reach and our node as leader of every
/// partition and as controller. Null topics = all topics; an unknown topic is created when
/// auto-creation is on and the client allows it (v4+; before v4 the schema's default, true). With
/// ACLs, as in Kafka: all topics means those the principal may DESCRIBE; a named topic it may not
/// describe is TOPIC_AUTHORIZATION_FAILED; auto-creation needs CREATE on the cluster or the topic.
/// </summary>
public sealed class MetadataApi(LogManager logs, BrokerOptions options, ILogger<MetadataApi> logger) : KafkaApi<MetadataRequest, MetadataResponse>
{
    public const string ClusterId = "shop-on-a-log";

    public override ApiVersionRange Versions { get; } = new(ApiKeys.Metadata, 1, 6, MetadataRequest.FlexibleFrom);

    protected override ValueTask<MetadataResponse?> HandleAsync(MetadataRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var topics = request.Topics is null
            ? logs.Topics.Where(t => context.AllowsOnTopic(AclOperation.Describe, t.Name)).Select(t => (t.Name, Topic: (TopicLog?)t, Error: ErrorCode.None)).ToList()
            : request.Topics.Select(t => t.Name ?? "").Select(name => context.AllowsOnTopic(AclOperation.Describe, name)
                ? Resolve(name, request.AllowAutoTopicCreation && (context.AllowsOnCluster(AclOperation.Create) || context.AllowsOnTopic(AclOperation.Create, name)))
                : (name, null, ErrorCode.TopicAuthorizationFailed)).ToList();
        var response = new MetadataResponse
        {
            Brokers = [new() { NodeId = options.NodeId, Host = options.AdvertisedHost, Port = context.Session.Endpoint.AdvertisedPort }],
            ClusterId = ClusterId,
            ControllerId = options.NodeId,
            Topics = topics.Select(t => new MetadataResponse.MetadataResponseTopic
            {
                ErrorCode = (short)t.Error,
                Name = t.Name,
                IsInternal = t.Name.StartsWith("__", StringComparison.Ordinal), // like __consumer_offsets
                Partitions = Enumerable.Range(0, t.Topic?.Partitions.Count ?? 0).Select(Partition).ToList(),
            }).ToList(),
        };
        return ValueTask.FromResult<MetadataResponse?>(response);
    }

    /// <summary>A single node: leader, only replica and only in-sync replica of every partition.</summary>
    private MetadataResponse.MetadataResponsePartition Partition(int index) => new()
    {
        PartitionIndex = index,
        LeaderId = options.NodeId,
        ReplicaNodes = [options.NodeId],
        IsrNodes = [options.NodeId],
    };

    private (string Name, TopicLog? Topic, ErrorCode Error) Resolve(string name, bool allowAutoCreate)
    {
        if (logs.TryGetTopic(name, out var topic)) return (name, topic, ErrorCode.None);
        if (LogManager.ValidateTopicName(name) is not null) return (name, null, ErrorCode.InvalidTopicException);
        if (!options.AutoCreateTopics || !allowAutoCreate) return (name, null, ErrorCode.UnknownTopicOrPartition);
        try
        {
            return (name, logs.CreateTopic(name, options.DefaultPartitions, new Dictionary<string, string?>()), ErrorCode.None);
        }
        catch (TopicExistsException) when (logs.TryGetTopic(name, out topic))
        {
            return (name, topic, ErrorCode.None); // created by a concurrent request
        }
        catch (Exception ex) when (ex is IOException or InvalidTopicException or InvalidPartitionsException)
        {
            logger.LogError(ex, "Auto-creating topic {Topic} failed", name);
            return (name, null, ErrorMapping.ToErrorCode(ex));
        }
    }
}
