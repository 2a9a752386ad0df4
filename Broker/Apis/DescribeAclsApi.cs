using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>DescribeAcls v0–3: the ACLs a filter matches, grouped by resource pattern; needs DESCRIBE on the cluster.</summary>
public sealed class DescribeAclsApi(Authorizer authorizer) : KafkaApi<DescribeAclsRequest, DescribeAclsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.DescribeAcls, 0, 3, DescribeAclsRequest.FlexibleFrom);

    protected override ValueTask<DescribeAclsResponse?> HandleAsync(DescribeAclsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        if (AclApis.Refusal(authorizer, context, AclOperation.Describe) is ({ } error, var message))
            return ValueTask.FromResult<DescribeAclsResponse?>(new DescribeAclsResponse { ErrorCode = (short)error, ErrorMessage = message });

        var filter = AclApis.Filter(request.ResourceTypeFilter, request.ResourceNameFilter, request.PatternTypeFilter,
            request.PrincipalFilter, request.HostFilter, request.Operation, request.PermissionType);
        return ValueTask.FromResult<DescribeAclsResponse?>(new DescribeAclsResponse
        {
            ErrorMessage = null,
            Resources = authorizer.Acls.All.Where(filter.Matches)
                .GroupBy(a => (a.ResourceType, a.ResourceName, a.PatternType))
                .Select(g => new DescribeAclsResponse.DescribeAclsResource
                {
                    ResourceType = (sbyte)g.Key.ResourceType,
                    ResourceName = g.Key.ResourceName,
                    PatternType = (sbyte)g.Key.PatternType,
                    Acls = g.Select(a => new DescribeAclsResponse.AclDescription
                    {
                        Principal = a.Principal, Host = a.Host, Operation = (sbyte)a.Operation, PermissionType = (sbyte)a.Permission,
                    }).ToList(),
                }).ToList(),
        });
    }
}
