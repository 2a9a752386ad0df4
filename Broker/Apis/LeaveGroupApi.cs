using Shop.Broker.Groups;
using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>LeaveGroup v0–1 (capped at 1 to keep kafkajs off the batched v3 form): the others rebalance at once.</summary>
public sealed class LeaveGroupApi(GroupCoordinator groups) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.LeaveGroup, 0, 1, FlexibleFrom: 4);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader();
        var groupId = reader.ReadString();
        var memberId = reader.ReadString();
        var error = groups.Find(groupId)?.Leave(memberId) ?? ErrorCode.UnknownMemberId;
        if (request.Version >= 1) response.WriteInt32(0); // throttle time
        response.WriteInt16((short)error);
        return ValueTask.FromResult(true);
    }
}
