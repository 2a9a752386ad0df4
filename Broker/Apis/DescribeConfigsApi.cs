using System.Globalization;
using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// DescribeConfigs v0–1 for topics (every config with its effective value, default or set) and for
/// this broker (its settings, read-only).
/// </summary>
public sealed class DescribeConfigsApi(LogManager logs, BrokerOptions options) : KafkaApi
{
    private const sbyte TopicResource = 2;
    private const sbyte BrokerResource = 4;
    private const sbyte SourceTopic = 1;
    private const sbyte SourceStaticBroker = 4;
    private const sbyte SourceDefault = 5;

    public override ApiVersionRange Versions { get; } = new(ApiKeys.DescribeConfigs, 0, 1, FlexibleFrom: 4);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var version = request.Version;
        var reader = request.BodyReader();
        var count = reader.ReadArrayLength();
        var resources = new List<(sbyte Type, string Name, HashSet<string>? Keys)>(count);
        for (var i = 0; i < count; i++)
        {
            var type = reader.ReadInt8();
            var name = reader.ReadString();
            var keyCount = reader.ReadArrayLength();
            HashSet<string>? keys = keyCount < 0 ? null : [];
            for (var k = 0; k < keyCount; k++) keys!.Add(reader.ReadString());
            resources.Add((type, name, keys));
        }
        // include_synonyms (v1+): synonyms are not tracked, so the list is always empty.

        response.WriteInt32(0); // throttle time
        response.WriteArrayLength(resources.Count);
        foreach (var (type, name, keys) in resources)
        {
            var (error, message, entries) = Describe(type, name);
            response.WriteInt16((short)error);
            response.WriteNullableString(message);
            response.WriteInt8(type);
            response.WriteString(name);
            var selected = entries.Where(e => keys is null || keys.Contains(e.Entry.Name)).ToList();
            response.WriteArrayLength(selected.Count);
            foreach (var (entry, source) in selected)
            {
                response.WriteString(entry.Name);
                response.WriteNullableString(entry.Value);
                response.WriteBool(entry.ReadOnly);
                if (version == 0) response.WriteBool(entry.IsDefault);
                else response.WriteInt8(source);
                response.WriteBool(entry.IsSensitive);
                if (version >= 1) response.WriteArrayLength(0); // synonyms
            }
        }
        return ValueTask.FromResult(true);
    }

    private (ErrorCode, string?, List<(TopicConfigEntry Entry, sbyte Source)>) Describe(sbyte type, string name)
    {
        switch (type)
        {
            case TopicResource when logs.TryGetTopic(name, out var topic):
                return (ErrorCode.None, null, topic.DescribeConfigs().Select(e => (e, e.IsDefault ? SourceDefault : SourceTopic)).ToList());
            case TopicResource:
                return (ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.", []);
            case BrokerResource:
                return (ErrorCode.None, null, BrokerConfigs().Select(e => (e, SourceStaticBroker)).ToList());
            default:
                return (ErrorCode.InvalidRequest, $"Resource type {type} is not supported: only topics (2) and the broker (4).", []);
        }
    }

    private IEnumerable<TopicConfigEntry> BrokerConfigs()
    {
        string Number(long n) => n.ToString(CultureInfo.InvariantCulture);
        yield return new("broker.id", Number(options.NodeId), false, ReadOnly: true);
        yield return new("log.dirs", Path.GetFullPath(options.DataDir), false, ReadOnly: true);
        yield return new("num.partitions", Number(options.DefaultPartitions), false, ReadOnly: true);
        yield return new("auto.create.topics.enable", options.AutoCreateTopics ? "true" : "false", false, ReadOnly: true);
        yield return new("log.segment.bytes", Number(options.SegmentBytes), false, ReadOnly: true);
        yield return new("log.flush.policy", options.FlushPolicy.ToString().ToLowerInvariant(), false, ReadOnly: true);
        yield return new("socket.request.max.bytes", Number(options.MaxFrameBytes), false, ReadOnly: true);
    }
}
