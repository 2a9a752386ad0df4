using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>SyncGroup v0–3: the leader hands in every member's assignment; each member waits for its own.</summary>
public sealed class SyncGroupApi(GroupCoordinator groups) : KafkaApi<SyncGroupRequest, SyncGroupResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.SyncGroup, 0, 3, SyncGroupRequest.FlexibleFrom);

    protected override async ValueTask<SyncGroupResponse?> HandleAsync(SyncGroupRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        // Copied out of the request frame: the group keeps them after this request is answered.
        var assignments = new Dictionary<string, byte[]>(request.Assignments.Count);
        foreach (var assignment in request.Assignments) assignments[assignment.MemberId] = assignment.Assignment.ToArray();

        var result = !context.AllowsOnGroup(AclOperation.Read, request.GroupId) ? new SyncResult((short)ErrorCode.GroupAuthorizationFailed, [])
            : groups.Find(request.GroupId) is { } group
            ? await group.SyncAsync(request.MemberId, request.GroupInstanceId, request.GenerationId, assignments).WaitAsync(cancellationToken)
            : new SyncResult((short)ErrorCode.UnknownMemberId, []);
        return new SyncGroupResponse { ErrorCode = result.Error, Assignment = result.Assignment };
    }
}
