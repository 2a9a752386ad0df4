using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>FindCoordinator v0–2: this single node coordinates every group (and would every transaction).</summary>
public sealed class FindCoordinatorApi(BrokerOptions options) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.FindCoordinator, 0, 2, FlexibleFrom: 3);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader();
        _ = reader.ReadString(); // key: the group id
        if (request.Version >= 1) _ = reader.ReadInt8(); // key type
        if (request.Version >= 1) response.WriteInt32(0); // throttle time
        response.WriteInt16((short)ErrorCode.None);
        if (request.Version >= 1) response.WriteNullableString(null);
        response.WriteInt32(options.NodeId);
        response.WriteString(options.AdvertisedHost);
        response.WriteInt32(options.PublicPort);
        return ValueTask.FromResult(true);
    }
}
