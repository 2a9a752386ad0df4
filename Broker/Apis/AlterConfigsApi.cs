using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// AlterConfigs v0–2: replaces a topic's configs with exactly those given (the rest return to their
/// defaults), validated as CreateTopics does and stored durably. Broker configs are static.
/// </summary>
public sealed class AlterConfigsApi(LogManager logs) : KafkaApi<AlterConfigsRequest, AlterConfigsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.AlterConfigs, 0, 2, AlterConfigsRequest.FlexibleFrom);

    protected override ValueTask<AlterConfigsResponse?> HandleAsync(AlterConfigsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var response = new AlterConfigsResponse();
        foreach (var resource in request.Resources)
        {
            var configs = resource.Configs.ToDictionary(c => c.Name, c => c.Value);
            var (error, message) = ConfigResources.Refusal(context, resource.ResourceType, resource.ResourceName, AclOperation.AlterConfigs)
                ?? ConfigResources.Apply(logs, resource.ResourceType, resource.ResourceName, () =>
            {
                if (!request.ValidateOnly) return logs.AlterTopicConfigs(resource.ResourceName, configs);
                TopicConfig.Validate(configs);
                return logs.TryGetTopic(resource.ResourceName, out _);
            });
            response.Responses.Add(new AlterConfigsResponse.AlterConfigsResourceResponse
            {
                ErrorCode = (short)error, ErrorMessage = message, ResourceType = resource.ResourceType, ResourceName = resource.ResourceName,
            });
        }
        return ValueTask.FromResult<AlterConfigsResponse?>(response);
    }
}
