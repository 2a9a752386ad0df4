using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// InitProducerId v0–1, for idempotent producers (librdkafka fails without it when idempotence is
/// on). Hands out a fresh producer id, epoch 0, from persisted blocks: never one given before,
/// whatever the clock does. Transactions are not supported: a transactional id is refused with an
/// error clients treat as fatal at once (see <see cref="FindCoordinatorApi"/>; this answer has no
/// room for a message).
/// </summary>
public sealed class InitProducerIdApi(Storage.LogManager logs) : KafkaApi<InitProducerIdRequest, InitProducerIdResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.InitProducerId, 0, 1, InitProducerIdRequest.FlexibleFrom);

    protected override ValueTask<InitProducerIdResponse?> HandleAsync(InitProducerIdRequest request, KafkaRequest context, CancellationToken cancellationToken) =>
        ValueTask.FromResult<InitProducerIdResponse?>(request.TransactionalId is not null
            ? new InitProducerIdResponse { ErrorCode = (short)ErrorCode.TransactionalIdAuthorizationFailed, ProducerId = -1, ProducerEpoch = -1 }
            : !MayWriteIdempotently(context)
            ? new InitProducerIdResponse { ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed, ProducerId = -1, ProducerEpoch = -1 }
            : new InitProducerIdResponse { ErrorCode = (short)ErrorCode.None, ProducerId = logs.ProducerIds.Allocate(), ProducerEpoch = 0 });

    /// <summary>As Kafka 3.0+ (KIP-679): IDEMPOTENT_WRITE on the cluster, or WRITE on some topic (a literal name, a prefix or *).</summary>
    private static bool MayWriteIdempotently(KafkaRequest context) =>
        context.AllowsOnCluster(AclOperation.IdempotentWrite) || context.MayWriteSomeTopic();
}
