using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>LeaveGroup v0–1 (capped at 1 to keep kafkajs off the batched v3 form): the others rebalance at once.</summary>
public sealed class LeaveGroupApi(GroupCoordinator groups) : KafkaApi<LeaveGroupRequest, LeaveGroupResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.LeaveGroup, 0, 1, LeaveGroupRequest.FlexibleFrom);

    protected override ValueTask<LeaveGroupResponse?> HandleAsync(LeaveGroupRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var error = !context.AllowsOnGroup(AclOperation.Read, request.GroupId) ? ErrorCode.GroupAuthorizationFailed
            : groups.Find(request.GroupId)?.Leave(request.MemberId) ?? ErrorCode.UnknownMemberId;
        return ValueTask.FromResult<LeaveGroupResponse?>(new LeaveGroupResponse { ErrorCode = (short)error });
    }
}
