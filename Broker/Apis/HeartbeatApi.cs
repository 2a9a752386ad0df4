using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>Heartbeat v0–3: keeps a member's session; REBALANCE_IN_PROGRESS tells it to rejoin, FENCED_INSTANCE_ID that a newer instance took its place.</summary>
public sealed class HeartbeatApi(GroupCoordinator groups) : KafkaApi<HeartbeatRequest, HeartbeatResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.Heartbeat, 0, 3, HeartbeatRequest.FlexibleFrom);

    protected override ValueTask<HeartbeatResponse?> HandleAsync(HeartbeatRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var error = !context.AllowsOnGroup(AclOperation.Read, request.GroupId) ? ErrorCode.GroupAuthorizationFailed
            : groups.Find(request.GroupId)?.Heartbeat(request.MemberId, request.GroupInstanceId, request.GenerationId) ?? ErrorCode.UnknownMemberId;
        return ValueTask.FromResult<HeartbeatResponse?>(new HeartbeatResponse { ErrorCode = (short)error });
    }
}
