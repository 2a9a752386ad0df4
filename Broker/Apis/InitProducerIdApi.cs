using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>
/// InitProducerId v0–1, for idempotent producers (librdkafka fails without it when idempotence is
/// on). Hands out a fresh producer id, epoch 0, from persisted blocks: never one given before,
/// whatever the clock does. Transactions are not supported.
/// </summary>
public sealed class InitProducerIdApi(Storage.LogManager logs) : KafkaApi
{

    public override ApiVersionRange Versions { get; } = new(ApiKeys.InitProducerId, 0, 1, FlexibleFrom: 2);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader();
        var transactionalId = reader.ReadNullableString();
        _ = reader.ReadInt32(); // transaction timeout
        response.WriteInt32(0); // throttle time
        if (transactionalId is not null)
        {
            response.WriteInt16((short)ErrorCode.InvalidRequest);
            response.WriteInt64(-1);
            response.WriteInt16(-1);
        }
        else
        {
            response.WriteInt16((short)ErrorCode.None);
            response.WriteInt64(logs.ProducerIds.Allocate());
            response.WriteInt16(0);
        }
        return ValueTask.FromResult(true);
    }
}
