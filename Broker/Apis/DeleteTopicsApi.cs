using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Apis;

/// <summary>DeleteTopics v0–3: removes each named topic and its files, durably; internal topics are refused.</summary>
public sealed class DeleteTopicsApi(LogManager logs) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DeleteTopics, 0, 3, FlexibleFrom: 4);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader();
        var count = reader.ReadArrayLength();
        var names = new List<string>(count);
        for (var i = 0; i < count; i++) names.Add(reader.ReadString());

        if (request.Version >= 1) response.WriteInt32(0); // throttle time
        response.WriteArrayLength(names.Count);
        foreach (var name in names)
        {
            response.WriteString(name);
            response.WriteInt16((short)Delete(name));
        }
        return ValueTask.FromResult(true);
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
