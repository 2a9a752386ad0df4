using System.Globalization;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// DescribeConfigs v0–1 for topics (every config with its effective value, default or set) and for
/// this broker (its settings, read-only). Synonyms (v1+) are not tracked: the list is always empty.
/// </summary>
public sealed class DescribeConfigsApi(LogManager logs, BrokerOptions options) : KafkaApi<DescribeConfigsRequest, DescribeConfigsResponse>
{
    private const sbyte TopicResource = 2;
    private const sbyte BrokerResource = 4;

    public override ApiVersionRange Versions { get; } = new(ApiKeys.DescribeConfigs, 0, 1, DescribeConfigsRequest.FlexibleFrom);

    protected override ValueTask<DescribeConfigsResponse?> HandleAsync(DescribeConfigsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var response = new DescribeConfigsResponse();
        foreach (var resource in request.Resources)
        {
            var (error, message, entries) = ConfigResources.Refusal(context, resource.ResourceType, resource.ResourceName, AclOperation.DescribeConfigs) is { } refused
                ? (refused.Error, refused.Message, [])
                : Describe(resource.ResourceType, resource.ResourceName);
            var keys = resource.ConfigurationKeys; // null = every config
            response.Results.Add(new DescribeConfigsResponse.DescribeConfigsResult
            {
                ErrorCode = (short)error,
                ErrorMessage = message,
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                Configs = entries.Where(e => keys is null || keys.Contains(e.Entry.Name)).Select(e => new DescribeConfigsResponse.DescribeConfigsResourceResult
                {
                    Name = e.Entry.Name,
                    Value = e.Entry.Value,
                    ReadOnly = e.Entry.ReadOnly,
                    IsDefault = e.Entry.IsDefault, // v0
                    ConfigSource = e.Source, // v1+
                    IsSensitive = e.Entry.IsSensitive,
                }).ToList(),
            });
        }
        return ValueTask.FromResult<DescribeConfigsResponse?>(response);
    }

    private (ErrorCode, string?, List<(TopicConfigEntry Entry, sbyte Source)>) Describe(sbyte type, string name)
    {
        switch (type)
        {
            case TopicResource when logs.TryGetTopic(name, out var topic):
                return (ErrorCode.None, null, topic.DescribeConfigs().Select(e => (e, (sbyte)e.Source)).ToList());
            case TopicResource:
                return (ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.", []);
            case BrokerResource:
                return (ErrorCode.None, null, BrokerConfigs().Select(e => (e, (sbyte)ConfigSource.StaticBroker)).ToList());
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
