using Shop.Broker.Network;

namespace Shop.Broker.Security;

/// <summary>
/// Decides what a principal may do, from the ACLs, as Kafka's standard authorizer does: off unless
/// <c>Broker:AclsEnabled</c>; then super users (<c>Broker:SuperUsers</c>, <c>User:admin;User:ops</c>)
/// may do everything, a matching DENY wins over any ALLOW, and without a matching ALLOW the answer
/// is no (deny by default).
/// </summary>
public sealed class Authorizer(BrokerOptions options, AclStore acls)
{
    /// <summary>The principals of <c>Broker:SuperUsers</c>.</summary>
    public IReadOnlySet<string> SuperUsers { get; } =
        (options.SuperUsers ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    public bool Enabled => options.AclsEnabled;

    public AclStore Acls => acls;

    public bool IsSuperUser(string principal) => SuperUsers.Contains(principal);

    public bool IsAllowed(KafkaSession session, AclOperation operation, ResourceType type, string name) =>
        IsAllowed(session.Principal, session.ClientHost, operation, type, name);

    /// <summary>The same decision for a principal that is not on a Kafka connection (the console's HTTP user).</summary>
    public bool IsAllowed(string principal, string clientHost, AclOperation operation, ResourceType type, string name)
    {
        if (!Enabled || IsSuperUser(principal)) return true;
        var relevant = Relevant(principal, clientHost, operation, a => a.Covers(type, name));
        return relevant.All(a => a.Permission != AclPermission.Deny) && relevant.Any(a => a.Permission == AclPermission.Allow);
    }

    /// <summary>The ACLs that speak about this principal and host, grant or deny <paramref name="operation"/>, on the resources <paramref name="covers"/> picks.</summary>
    private List<AclBinding> Relevant(string principal, string clientHost, AclOperation operation, Func<AclBinding, bool> covers)
    {
        var host = clientHost.TrimStart('/');
        return acls.All.Where(a => covers(a) && a.Concerns(principal, host) && a.Grants(operation)).ToList();
    }

    /// <summary>
    /// Whether some resource of that type allows it (Kafka's authorizeByResourceType): an ALLOW for
    /// the principal on any name or prefix, unless a DENY covers every name (literal * or empty prefix).
    /// </summary>
    public bool IsAllowedOnSome(KafkaSession session, AclOperation operation, ResourceType type)
    {
        if (!Enabled || IsSuperUser(session.Principal)) return true;
        var relevant = Relevant(session.Principal, session.ClientHost, operation, a => a.ResourceType == type);
        var deniedEverywhere = relevant.Any(a => a.Permission == AclPermission.Deny
            && ((a.PatternType == PatternType.Literal && a.ResourceName == AclBinding.Wildcard) || (a.PatternType == PatternType.Prefixed && a.ResourceName.Length == 0)));
        return !deniedEverywhere && relevant.Any(a => a.Permission == AclPermission.Allow);
    }

    public bool CanOnCluster(KafkaSession session, AclOperation operation) => IsAllowed(session, operation, ResourceType.Cluster, AclBinding.ClusterName);
}
