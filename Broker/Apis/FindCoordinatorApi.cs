using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;

namespace Shop.Broker.Apis;

/// <summary>FindCoordinator v0–2: this single node coordinates every group (and would every transaction), whatever the key.</summary>
public sealed class FindCoordinatorApi(BrokerOptions options) : KafkaApi<FindCoordinatorRequest, FindCoordinatorResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.FindCoordinator, 0, 2, FindCoordinatorRequest.FlexibleFrom);

    protected override ValueTask<FindCoordinatorResponse?> HandleAsync(FindCoordinatorRequest request, KafkaRequest context, CancellationToken cancellationToken) =>
        ValueTask.FromResult<FindCoordinatorResponse?>(new FindCoordinatorResponse
        {
            ErrorCode = (short)ErrorCode.None,
            ErrorMessage = null,
            NodeId = options.NodeId,
            Host = options.AdvertisedHost,
            Port = options.PublicPort,
        });
}
