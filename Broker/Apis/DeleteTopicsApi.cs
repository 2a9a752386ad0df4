using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>DeleteTopics v0–3: removes each named topic and its files.</summary>
public sealed class DeleteTopicsApi(LogManager logs) : KafkaApi<DeleteTopicsRequest, DeleteTopicsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DeleteTopics, 0, 3, DeleteTopicsRequest.FlexibleFrom);

    protected override ValueTask<DeleteTopicsResponse?> HandleAsync(DeleteTopicsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var response = new DeleteTopicsResponse();
        foreach (var name in request.TopicNames)
        {
            var error = logs.DeleteTopic(name) ? ErrorCode.None : ErrorCode.UnknownTopicOrPartition;
            response.Responses.Add(new DeleteTopicsResponse.DeletableTopicResult { Name = name, ErrorCode = (short)error });
        }
        return ValueTask.FromResult<DeleteTopicsResponse?>(response);
    }
}
