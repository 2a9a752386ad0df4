using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;

namespace Shop.Broker.Apis;

/// <summary>
/// InitProducerId v0–1, for idempotent producers (librdkafka fails without it when idempotence is
/// on). Hands out a fresh producer id, epoch 0. Ids start from the clock so that a restarted broker
/// does not hand out an id it gave before. Transactions are not supported.
/// </summary>
public sealed class InitProducerIdApi : KafkaApi<InitProducerIdRequest, InitProducerIdResponse>
{
    private long _nextProducerId = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public override ApiVersionRange Versions { get; } = new(ApiKeys.InitProducerId, 0, 1, InitProducerIdRequest.FlexibleFrom);

    protected override ValueTask<InitProducerIdResponse?> HandleAsync(InitProducerIdRequest request, KafkaRequest context, CancellationToken cancellationToken) =>
        ValueTask.FromResult<InitProducerIdResponse?>(request.TransactionalId is not null
            ? new InitProducerIdResponse { ErrorCode = (short)ErrorCode.InvalidRequest, ProducerId = -1, ProducerEpoch = -1 }
            : new InitProducerIdResponse { ErrorCode = (short)ErrorCode.None, ProducerId = Interlocked.Increment(ref _nextProducerId), ProducerEpoch = 0 });
}
