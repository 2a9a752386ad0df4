using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>DeleteTopics v0–3: removes each named topic and its files, durably; internal topics are refused. Needs DELETE on the topic.</summary>
public sealed class DeleteTopicsApi(LogManager logs) : KafkaApi<DeleteTopicsRequest, DeleteTopicsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DeleteTopics, 0, 3, DeleteTopicsRequest.FlexibleFrom);

    protected override ValueTask<DeleteTopicsResponse?> HandleAsync(DeleteTopicsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var response = new DeleteTopicsResponse();
        foreach (var name in request.TopicNames)
        {
            var error = context.AllowsOnTopic(AclOperation.Delete, name) ? Delete(name) : ErrorCode.TopicAuthorizationFailed;
            response.Responses.Add(new DeleteTopicsResponse.DeletableTopicResult { Name = name, ErrorCode = (short)error });
        }
        return ValueTask.FromResult<DeleteTopicsResponse?>(response);
    }

    private ErrorCode Delete(string name)
    {
        try
        {
            return logs.DeleteTopic(name) ? ErrorCode.None : ErrorCode.UnknownTopicOrPartition;
        }
        catch (Exception ex) when (ex is InternalTopicException or IOException)
        {
            return ErrorMapping.ToErrorCode(ex);
        }
    }
}
