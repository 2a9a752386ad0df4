using Shop.Broker.Groups;
using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>Heartbeat v0–3: keeps a member's session; REBALANCE_IN_PROGRESS tells it to rejoin.</summary>
public sealed class HeartbeatApi(GroupCoordinator groups) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.Heartbeat, 0, 3, FlexibleFrom: 4);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader();
        var groupId = reader.ReadString();
        var generation = reader.ReadInt32();
        var memberId = reader.ReadString();
        var error = groups.Find(groupId)?.Heartbeat(memberId, generation) ?? ErrorCode.UnknownMemberId;
        if (request.Version >= 1) response.WriteInt32(0); // throttle time
        response.WriteInt16((short)error);
        return ValueTask.FromResult(true);
    }
}
