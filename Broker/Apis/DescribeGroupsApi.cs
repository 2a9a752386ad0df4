using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// DescribeGroups v0–5: state, protocol, and each member with its metadata and assignment; v4+ the
/// member's group instance id (librdkafka's DescribeConsumerGroups needs it: below v4 it reads a
/// NULL); v5+ flexible. Authorized operations (v3+) are not computed and say so with int.MinValue.
/// </summary>
public sealed class DescribeGroupsApi(GroupCoordinator groups) : KafkaApi<DescribeGroupsRequest, DescribeGroupsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DescribeGroups, 0, 5, DescribeGroupsRequest.FlexibleFrom);

    protected override ValueTask<DescribeGroupsResponse?> HandleAsync(DescribeGroupsRequest request, KafkaRequest context, CancellationToken cancellationToken) =>
        ValueTask.FromResult<DescribeGroupsResponse?>(new DescribeGroupsResponse
        {
            Groups = request.Groups.Select(id => context.AllowsOnGroup(AclOperation.Describe, id)
                ? Described(groups.Describe(id))
                : new DescribeGroupsResponse.DescribedGroup { GroupId = id, ErrorCode = (short)ErrorCode.GroupAuthorizationFailed }).ToList(),
        });

    private static DescribeGroupsResponse.DescribedGroup Described(GroupDescription group) => new()
    {
        GroupId = group.GroupId,
        GroupState = group.State.ToString(),
        ProtocolType = group.ProtocolType,
        ProtocolData = group.Protocol,
        Members = group.Members.Select(member => new DescribeGroupsResponse.DescribedGroupMember
        {
            MemberId = member.MemberId,
            GroupInstanceId = member.GroupInstanceId,
            ClientId = member.ClientId,
            ClientHost = member.ClientHost,
            MemberMetadata = member.Metadata,
            MemberAssignment = member.Assignment,
        }).ToList(),
    };
}
