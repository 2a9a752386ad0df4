using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// FindCoordinator v0–2: this single node coordinates every group. There are no transactions, and
/// a transactional producer asks for its coordinator first: it gets an error librdkafka and kafkajs
/// treat as fatal at once (TRANSACTIONAL_ID_AUTHORIZATION_FAILED; the retriable
/// COORDINATOR_NOT_AVAILABLE would make it retry until its timeout), with a message saying why.
/// </summary>
public sealed class FindCoordinatorApi(BrokerOptions options) : KafkaApi<FindCoordinatorRequest, FindCoordinatorResponse>
{
    public const sbyte GroupKey = 0;
    public const sbyte TransactionKey = 1;

    public const string TransactionsUnsupported =
        "this broker does not support transactions: use an idempotent producer (enable.idempotence=true) without transactional.id";

    public override ApiVersionRange Versions { get; } = new(ApiKeys.FindCoordinator, 0, 2, FindCoordinatorRequest.FlexibleFrom);

    protected override ValueTask<FindCoordinatorResponse?> HandleAsync(FindCoordinatorRequest request, KafkaRequest context, CancellationToken cancellationToken) =>
        ValueTask.FromResult<FindCoordinatorResponse?>(request.KeyType == GroupKey && !context.AllowsOnGroup(AclOperation.Describe, request.Key)
            ? new FindCoordinatorResponse
            {
                ErrorCode = (short)ErrorCode.GroupAuthorizationFailed,
                ErrorMessage = $"{context.Session.Principal} may not DESCRIBE group '{request.Key}'",
                NodeId = -1,
                Host = "",
                Port = -1,
            }
            : request.KeyType == TransactionKey
            ? new FindCoordinatorResponse
            {
                ErrorCode = (short)ErrorCode.TransactionalIdAuthorizationFailed,
                ErrorMessage = TransactionsUnsupported,
                NodeId = -1,
                Host = "",
                Port = -1,
            }
            : new FindCoordinatorResponse
            {
                ErrorCode = (short)ErrorCode.None,
                ErrorMessage = null,
                NodeId = options.NodeId,
                Host = options.AdvertisedHost,
                Port = context.Session.Endpoint.AdvertisedPort,
            });
}
