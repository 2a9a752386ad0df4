using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// CreateAcls v0–3: adds ACLs, durably, for a principal with ALTER on the cluster. Each creation is
/// checked on its own (an invalid one is refused with the reason, the others are kept). Without
/// <c>Broker:AclsEnabled</c> every creation is refused with SECURITY_DISABLED, as Kafka does
/// without an authorizer.
/// </summary>
public sealed class CreateAclsApi(Authorizer authorizer, ILogger<CreateAclsApi> logger) : KafkaApi<CreateAclsRequest, CreateAclsResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.CreateAcls, 0, 3, CreateAclsRequest.FlexibleFrom);

    protected override ValueTask<CreateAclsResponse?> HandleAsync(CreateAclsRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var refusal = AclApis.Refusal(authorizer, context, AclOperation.Alter);
        var acls = request.Creations.Select(c => new AclBinding((ResourceType)c.ResourceType, c.ResourceName, (PatternType)c.ResourcePatternType,
            c.Principal, c.Host, (AclOperation)c.Operation, (AclPermission)c.PermissionType)).ToList();
        var results = acls.Select(acl => refusal ?? (acl.Problem() is { } problem ? (ErrorCode.InvalidRequest, problem) : (ErrorCode.None, null))).ToList();
        var valid = acls.Where((_, i) => results[i].Item1 == ErrorCode.None).ToList();
        if (valid.Count > 0)
        {
            authorizer.Acls.Add(valid);
            foreach (var acl in valid) logger.LogInformation("{By} added ACL {Acl}", context.Session.Principal, acl);
        }
        return ValueTask.FromResult<CreateAclsResponse?>(new CreateAclsResponse
        {
            Results = results.Select(r => new CreateAclsResponse.AclCreationResult { ErrorCode = (short)r.Item1, ErrorMessage = r.Item2 }).ToList(),
        });
    }
}
