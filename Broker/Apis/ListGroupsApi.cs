using Shop.Broker.Groups;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// ListGroups v0–5: every group with members or committed offsets. v3+ flexible; v4+ report each
/// group's state and filter by states, v5+ report the group type and filter by types (case
/// insensitive, as Kafka). Every group here is a "classic" group.
/// </summary>
public sealed class ListGroupsApi(GroupCoordinator groups) : KafkaApi<ListGroupsRequest, ListGroupsResponse>
{
    public const string ClassicGroupType = "classic";

    public override ApiVersionRange Versions { get; } = new(ApiKeys.ListGroups, 0, 5, ListGroupsRequest.FlexibleFrom);

    protected override ValueTask<ListGroupsResponse?> HandleAsync(ListGroupsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var states = request.StatesFilter.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var everyGroup = context.AllowsOnCluster(AclOperation.Describe); // otherwise only the groups it may describe, as Kafka
        var typeMatches = request.TypesFilter.Count == 0 || request.TypesFilter.Contains(ClassicGroupType, StringComparer.OrdinalIgnoreCase);
        return ValueTask.FromResult<ListGroupsResponse?>(new ListGroupsResponse
        {
            Groups = groups.GroupIds.Select(groups.Describe)
                .Where(group => (everyGroup || context.AllowsOnGroup(AclOperation.Describe, group.GroupId)))
                .Where(group => typeMatches && (states.Count == 0 || states.Contains(group.State.ToString())))
                .Select(group => new ListGroupsResponse.ListedGroup
                {
                    GroupId = group.GroupId,
                    ProtocolType = group.ProtocolType.Length > 0 ? group.ProtocolType : "consumer",
                    GroupState = group.State.ToString(),
                    GroupType = ClassicGroupType,
                }).ToList(),
        });
    }
}
