using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>
/// CreatePartitions v0–1: grows a topic to the count given, durably; consumer groups pick the new
/// partitions up on their next metadata refresh. Manual assignments may only name this broker.
/// </summary>
public sealed class CreatePartitionsApi(LogManager logs, BrokerOptions options) : KafkaApi<CreatePartitionsRequest, CreatePartitionsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.CreatePartitions, 0, 1, CreatePartitionsRequest.FlexibleFrom);

    protected override ValueTask<CreatePartitionsResponse?> HandleAsync(CreatePartitionsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var response = new CreatePartitionsResponse();
        foreach (var topic in request.Topics)
        {
            var (error, message) = context.AllowsOnTopic(AclOperation.Alter, topic.Name)
                ? Grow(topic, request.ValidateOnly)
                : (ErrorCode.TopicAuthorizationFailed, $"{context.Session.Principal} may not ALTER topic '{topic.Name}'.");
            response.Results.Add(new CreatePartitionsResponse.CreatePartitionsTopicResult { Name = topic.Name, ErrorCode = (short)error, ErrorMessage = message });
        }
        return ValueTask.FromResult<CreatePartitionsResponse?>(response);
    }

    private (ErrorCode, string?) Grow(CreatePartitionsRequest.CreatePartitionsTopic request, bool validateOnly)
    {
        if (!logs.TryGetTopic(request.Name, out var topic)) return (ErrorCode.UnknownTopicOrPartition, $"Topic '{request.Name}' does not exist.");
        if (request.Assignments?.Any(a => a.BrokerIds.Any(id => id != options.NodeId)) == true)
            return (ErrorCode.InvalidReplicaAssignment, $"This is a single broker: assignments may only name node {options.NodeId}.");
        if (request.Count <= topic.Partitions.Count)
            return (ErrorCode.InvalidPartitions, $"Topic '{request.Name}' has {topic.Partitions.Count} partitions; the new count {request.Count} must be larger.");
        if (validateOnly) return (ErrorCode.None, null);
        try
        {
            logs.AddPartitions(request.Name, request.Count);
            return (ErrorCode.None, null);
        }
        catch (Exception ex) when (ex is InvalidPartitionsException or IOException)
        {
            return (ErrorMapping.ToErrorCode(ex), ex.Message);
        }
    }
}
