using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>DeleteAcls v0–3: removes, durably, the ACLs each filter matches and answers them; needs ALTER on the cluster.</summary>
public sealed class DeleteAclsApi(Authorizer authorizer, ILogger<DeleteAclsApi> logger) : KafkaApi<DeleteAclsRequest, DeleteAclsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DeleteAcls, 0, 3, DeleteAclsRequest.FlexibleFrom);

    protected override ValueTask<DeleteAclsResponse?> HandleAsync(DeleteAclsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        if (AclApis.Refusal(authorizer, context, AclOperation.Alter) is ({ } error, var message))
        {
            return ValueTask.FromResult<DeleteAclsResponse?>(new DeleteAclsResponse
            {
                FilterResults = request.Filters.Select(_ => new DeleteAclsResponse.DeleteAclsFilterResult { ErrorCode = (short)error, ErrorMessage = message }).ToList(),
            });
        }
        var filters = request.Filters.Select(f => AclApis.Filter(f.ResourceTypeFilter, f.ResourceNameFilter, f.PatternTypeFilter,
            f.PrincipalFilter, f.HostFilter, f.Operation, f.PermissionType)).ToList();
        var removed = authorizer.Acls.Remove(filters);
        foreach (var acl in removed.SelectMany(r => r).Distinct()) logger.LogInformation("{By} removed ACL {Acl}", context.Session.Principal, acl);
        return ValueTask.FromResult<DeleteAclsResponse?>(new DeleteAclsResponse
        {
            FilterResults = removed.Select(matched => new DeleteAclsResponse.DeleteAclsFilterResult
            {
                ErrorMessage = null,
                MatchingAcls = matched.Select(a => new DeleteAclsResponse.DeleteAclsMatchingAcl
                {
                    ErrorMessage = null,
                    ResourceType = (sbyte)a.ResourceType, ResourceName = a.ResourceName, PatternType = (sbyte)a.PatternType,
                    Principal = a.Principal, Host = a.Host, Operation = (sbyte)a.Operation, PermissionType = (sbyte)a.Permission,
                }).ToList(),
            }).ToList(),
        });
    }
}
