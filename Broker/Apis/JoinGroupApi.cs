using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// JoinGroup v1–5 (v5: static membership through the group instance id). The answer waits until
/// the join phase ends; the leader receives every member's metadata for the chosen protocol.
/// </summary>
public sealed class JoinGroupApi(GroupCoordinator groups) : KafkaApi<JoinGroupRequest, JoinGroupResponse>
{
    public const int MinSessionTimeoutMs = 1000;
    public const int MaxSessionTimeoutMs = 1_800_000;

    public override ApiVersionRange Versions { get; } = new(ApiKeys.JoinGroup, 1, 5, JoinGroupRequest.FlexibleFrom);

    protected override async ValueTask<JoinGroupResponse?> HandleAsync(JoinGroupRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        // Copied out of the request frame: the group keeps them after this request is answered.
        var protocols = request.Protocols.Select(p => (p.Name, p.Metadata.ToArray())).ToList();

        JoinResult result;
        if (request.GroupId.Length == 0)
            result = new JoinResult((short)ErrorCode.InvalidGroupId, -1, null, "", request.MemberId, []);
        else if (!context.AllowsOnGroup(AclOperation.Read, request.GroupId))
            result = new JoinResult((short)ErrorCode.GroupAuthorizationFailed, -1, null, "", request.MemberId, []);
        else if (request.SessionTimeoutMs is < MinSessionTimeoutMs or > MaxSessionTimeoutMs)
            result = new JoinResult((short)ErrorCode.InvalidSessionTimeout, -1, null, "", request.MemberId, []);
        else
            result = await groups.GetOrCreate(request.GroupId).JoinAsync(request.MemberId, request.GroupInstanceId, context.ClientId, context.ClientHost,
                request.SessionTimeoutMs, request.RebalanceTimeoutMs, request.ProtocolType, protocols).WaitAsync(cancellationToken);

        return new JoinGroupResponse
        {
            ErrorCode = result.Error,
            GenerationId = result.Generation,
            ProtocolName = result.Protocol ?? "",
            Leader = result.Leader,
            MemberId = result.MemberId,
            Members = result.Members
                .Select(m => new JoinGroupResponse.JoinGroupResponseMember { MemberId = m.MemberId, GroupInstanceId = m.GroupInstanceId, Metadata = m.Metadata })
                .ToList(),
        };
    }
}
