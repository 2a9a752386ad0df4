using Shop.Broker.Groups;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>DeleteGroups v0–1: forgets a group without members and its committed offsets.</summary>
public sealed class DeleteGroupsApi(GroupCoordinator groups) : KafkaApi<DeleteGroupsRequest, DeleteGroupsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DeleteGroups, 0, 1, DeleteGroupsRequest.FlexibleFrom);

    protected override async ValueTask<DeleteGroupsResponse?> HandleAsync(DeleteGroupsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var response = new DeleteGroupsResponse();
        foreach (var id in request.GroupsNames)
        {
            var error = !context.AllowsOnGroup(AclOperation.Delete, id) ? ErrorCode.GroupAuthorizationFailed
                : !groups.GroupIds.Contains(id) ? ErrorCode.GroupIdNotFound
                : await groups.DeleteAsync(id, cancellationToken) ? ErrorCode.None : ErrorCode.NonEmptyGroup;
            response.Results.Add(new DeleteGroupsResponse.DeletableGroupResult { GroupId = id, ErrorCode = (short)error });
        }
        return response;
    }
}
