using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// CreateTopics v2–4 (v4 lets Confluent.Kafka send -1 partitions / replication factor for the
/// broker defaults). A single node cannot hold more than one replica: a larger replication factor
/// is refused with a message that says so. validate_only checks everything and creates nothing.
/// </summary>
public sealed class CreateTopicsApi(LogManager logs, BrokerOptions options, ILogger<CreateTopicsApi> logger) : KafkaApi<CreateTopicsRequest, CreateTopicsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.CreateTopics, 2, 4, CreateTopicsRequest.FlexibleFrom);

    protected override ValueTask<CreateTopicsResponse?> HandleAsync(CreateTopicsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        // The timeout is not used: creation is done before the answer.
        var response = new CreateTopicsResponse();
        foreach (var topic in request.Topics)
        {
            var (error, message) = context.AllowsOnCluster(AclOperation.Create) || context.AllowsOnTopic(AclOperation.Create, topic.Name)
                ? Create(topic, request.ValidateOnly)
                : (ErrorCode.TopicAuthorizationFailed, $"{context.Session.Principal} may not CREATE topic '{topic.Name}'.");
            response.Topics.Add(new CreateTopicsResponse.CreatableTopicResult { Name = topic.Name, ErrorCode = (short)error, ErrorMessage = message });
        }
        return ValueTask.FromResult<CreateTopicsResponse?>(response);
    }

    private (ErrorCode, string?) Create(CreateTopicsRequest.CreatableTopic topic, bool validateOnly)
    {
        if (topic.ReplicationFactor is not (-1 or 1))
            return (ErrorCode.InvalidReplicationFactor, $"Replication factor {topic.ReplicationFactor} is impossible: this broker is a single node (use 1 or -1).");
        var assignments = topic.Assignments.Count;
        var partitions = assignments > 0 ? assignments : topic.NumPartitions == -1 ? options.DefaultPartitions : topic.NumPartitions;
        if (partitions < 1) return (ErrorCode.InvalidPartitions, $"Partition count {topic.NumPartitions} must be at least 1 (or -1 for the default).");
        var configs = new Dictionary<string, string?>();
        foreach (var config in topic.Configs) configs[config.Name] = config.Value;
        try
        {
            if (validateOnly)
            {
                if (LogManager.ValidateTopicName(topic.Name) is { } problem) throw new InvalidTopicException(problem);
                TopicConfig.Validate(configs);
                if (logs.TryGetTopic(topic.Name, out _)) throw new TopicExistsException($"Topic '{topic.Name}' already exists.");
            }
            else
            {
                logs.CreateTopic(topic.Name, partitions, configs);
            }
            return (ErrorCode.None, null);
        }
        catch (Exception ex) when (ex is TopicExistsException or InvalidTopicException or InvalidPartitionsException or InvalidConfigException or IOException)
        {
            if (ex is IOException) logger.LogError(ex, "Creating topic {Topic} failed", topic.Name);
            return (ErrorMapping.ToErrorCode(ex), ex.Message);
        }
    }
}
