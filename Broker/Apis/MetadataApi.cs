using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// Metadata v1–6. Advertises the address clients really reach and our node as leader of every
/// partition and as controller. Null topics = all topics; an unknown topic is created when
/// auto-creation is on and the client allows it (v4+).
/// </summary>
public sealed class MetadataApi(LogManager logs, BrokerOptions options, ILogger<MetadataApi> logger) : KafkaApi
{
    public const string ClusterId = "shop-on-a-log";

    public override ApiVersionRange Versions { get; } = new(ApiKeys.Metadata, 1, 6, FlexibleFrom: 9);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var version = request.Version;
        var reader = request.BodyReader();
        var count = reader.ReadArrayLength();
        List<string>? requested = null;
        if (count >= 0)
        {
            requested = new List<string>(count);
            for (var i = 0; i < count; i++) requested.Add(reader.ReadString());
        }
        var allowAutoCreate = version < 4 || reader.ReadBool();

        if (version >= 3) response.WriteInt32(0); // throttle time
        response.WriteArrayLength(1);
        response.WriteInt32(options.NodeId);
        response.WriteString(options.AdvertisedHost);
        response.WriteInt32(options.PublicPort);
        response.WriteNullableString(null); // rack
        if (version >= 2) response.WriteNullableString(ClusterId);
        response.WriteInt32(options.NodeId); // controller

        var topics = requested is null
            ? logs.Topics.Select(t => (t.Name, Topic: (TopicLog?)t, Error: ErrorCode.None)).ToList()
            : requested.Select(name => Resolve(name, allowAutoCreate)).ToList();
        response.WriteArrayLength(topics.Count);
        foreach (var (name, topic, error) in topics)
        {
            response.WriteInt16((short)error);
            response.WriteString(name);
            response.WriteBool(name.StartsWith("__", StringComparison.Ordinal)); // internal, like __consumer_offsets
            var partitions = topic?.Partitions.Count ?? 0;
            response.WriteArrayLength(partitions);
            for (var p = 0; p < partitions; p++)
            {
                response.WriteInt16((short)ErrorCode.None);
                response.WriteInt32(p);
                response.WriteInt32(options.NodeId); // leader
                response.WriteArrayLength(1); response.WriteInt32(options.NodeId); // replicas
                response.WriteArrayLength(1); response.WriteInt32(options.NodeId); // in-sync replicas
                if (version >= 5) response.WriteArrayLength(0); // offline replicas
            }
        }
        return ValueTask.FromResult(true);
    }

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
        catch (Exception ex) when (ex is IOException or InvalidTopicException)
        {
            logger.LogError(ex, "Auto-creating topic {Topic} failed", name);
            return (name, null, ErrorMapping.ToErrorCode(ex));
        }
    }
}
