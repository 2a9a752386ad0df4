using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// CreateTopics v2–4 (v4 lets Confluent.Kafka send -1 partitions / replication factor for the
/// broker defaults). A single node cannot hold more than one replica: a larger replication factor
/// is refused with a message that says so. validate_only checks everything and creates nothing.
/// </summary>
public sealed class CreateTopicsApi(LogManager logs, BrokerOptions options, ILogger<CreateTopicsApi> logger) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.CreateTopics, 2, 4, FlexibleFrom: 5);

    private sealed record CreatableTopic(string Name, int Partitions, short ReplicationFactor, int Assignments, Dictionary<string, string?> Configs);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader();
        var count = reader.ReadArrayLength();
        var topics = new List<CreatableTopic>(count);
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var partitions = reader.ReadInt32();
            var replicationFactor = reader.ReadInt16();
            var assignments = reader.ReadArrayLength();
            for (var a = 0; a < assignments; a++)
            {
                _ = reader.ReadInt32();
                var brokers = reader.ReadArrayLength(4);
                for (var b = 0; b < brokers; b++) _ = reader.ReadInt32();
            }
            var configCount = reader.ReadArrayLength();
            var configs = new Dictionary<string, string?>();
            for (var c = 0; c < configCount; c++) configs[reader.ReadString()] = reader.ReadNullableString();
            topics.Add(new CreatableTopic(name, partitions, replicationFactor, assignments, configs));
        }
        _ = reader.ReadInt32(); // timeout
        var validateOnly = reader.ReadBool();

        response.WriteInt32(0); // throttle time
        response.WriteArrayLength(topics.Count);
        foreach (var topic in topics)
        {
            var (error, message) = Create(topic, validateOnly);
            response.WriteString(topic.Name);
            response.WriteInt16((short)error);
            response.WriteNullableString(message);
        }
        return ValueTask.FromResult(true);
    }

    private (ErrorCode, string?) Create(CreatableTopic topic, bool validateOnly)
    {
        if (topic.ReplicationFactor is not (-1 or 1))
            return (ErrorCode.InvalidReplicationFactor, $"Replication factor {topic.ReplicationFactor} is impossible: this broker is a single node (use 1 or -1).");
        var partitions = topic.Assignments > 0 ? topic.Assignments : topic.Partitions == -1 ? options.DefaultPartitions : topic.Partitions;
        if (partitions < 1) return (ErrorCode.InvalidPartitions, $"Partition count {topic.Partitions} must be at least 1 (or -1 for the default).");
        try
        {
            if (validateOnly)
            {
                if (LogManager.ValidateTopicName(topic.Name) is { } problem) throw new InvalidTopicException(problem);
                TopicConfig.Validate(topic.Configs);
                if (logs.TryGetTopic(topic.Name, out _)) throw new TopicExistsException($"Topic '{topic.Name}' already exists.");
            }
            else
            {
                logs.CreateTopic(topic.Name, partitions, topic.Configs);
            }
            return (ErrorCode.None, null);
        }
        catch (Exception ex) when (ex is TopicExistsException or InvalidTopicException or InvalidConfigException or IOException)
        {
            if (ex is IOException) logger.LogError(ex, "Creating topic {Topic} failed", topic.Name);
            return (ErrorMapping.ToErrorCode(ex), ex.Message);
        }
    }
}
