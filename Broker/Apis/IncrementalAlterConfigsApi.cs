using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// IncrementalAlterConfigs v0–1: SET, DELETE (back to the default), APPEND and SUBTRACT (list
/// configs) on a topic, all or nothing per topic, stored durably. Broker configs are static.
/// </summary>
public sealed class IncrementalAlterConfigsApi(LogManager logs) : KafkaApi<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.IncrementalAlterConfigs, 0, 1, IncrementalAlterConfigsRequest.FlexibleFrom);

    protected override ValueTask<IncrementalAlterConfigsResponse?> HandleAsync(IncrementalAlterConfigsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var response = new IncrementalAlterConfigsResponse();
        foreach (var resource in request.Resources)
        {
            var changes = resource.Configs.Select(c => (c.Name, (ConfigOperation)c.ConfigOperation, c.Value)).ToList();
            var (error, message) = ConfigResources.Refusal(context, resource.ResourceType, resource.ResourceName, AclOperation.AlterConfigs)
                ?? ConfigResources.Apply(logs, resource.ResourceType, resource.ResourceName, () =>
                request.ValidateOnly
                    ? logs.TryGetTopic(resource.ResourceName, out _) && changes.All(c => TopicConfig.Names.Contains(c.Name))
                    : logs.IncrementalAlterTopicConfigs(resource.ResourceName, changes));
            response.Responses.Add(new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
            {
                ErrorCode = (short)error, ErrorMessage = message, ResourceType = resource.ResourceType, ResourceName = resource.ResourceName,
            });
        }
        return ValueTask.FromResult<IncrementalAlterConfigsResponse?>(response);
    }
}
