using Shop.Broker.Groups;
using Shop.Broker.Protocol.Messages;

namespace Shop.Broker.Apis;

/// <summary>ListGroups v0–2: every group with members or committed offsets.</summary>
public sealed class ListGroupsApi(GroupCoordinator groups) : KafkaApi<ListGroupsRequest, ListGroupsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.ListGroups, 0, 2, ListGroupsRequest.FlexibleFrom);

    protected override ValueTask<ListGroupsResponse?> HandleAsync(ListGroupsRequest request, KafkaRequest context, CancellationToken cancellationToken) =>
        ValueTask.FromResult<ListGroupsResponse?>(new ListGroupsResponse
        {
            Groups = groups.GroupIds.Select(groups.Describe).Select(group => new ListGroupsResponse.ListedGroup
            {
                GroupId = group.GroupId,
                ProtocolType = group.ProtocolType.Length > 0 ? group.ProtocolType : "consumer",
            }).ToList(),
        });
}
