using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// DeleteAcls v0–3: removes, durably, the ACLs each filter matches and answers them; needs ALTER on
/// the cluster. ACLs of the configuration (Broker:Acls) are answered with an error saying so, and stay.
/// </summary>
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
            FilterResults = removed.Select((matched, i) => new DeleteAclsResponse.DeleteAclsFilterResult
            {
                ErrorMessage = null,
                // Configured ACLs match too, and are answered with why they stay.
                MatchingAcls = matched.Select(a => Matching(a, ErrorCode.None, null))
                    .Concat(authorizer.Acls.Configured.Where(filters[i].Matches).Select(a => Matching(a, ErrorCode.InvalidRequest,
                        "this ACL comes from the broker's configuration (Broker:Acls): change it there")))
                    .ToList(),
            }).ToList(),
        });
    }

    private static DeleteAclsResponse.DeleteAclsMatchingAcl Matching(AclBinding acl, ErrorCode error, string? message) => new()
    {
        ErrorCode = (short)error,
        ErrorMessage = message,
        ResourceType = (sbyte)acl.ResourceType, ResourceName = acl.ResourceName, PatternType = (sbyte)acl.PatternType,
        Principal = acl.Principal, Host = acl.Host, Operation = (sbyte)acl.Operation, PermissionType = (sbyte)acl.Permission,
    };
}
