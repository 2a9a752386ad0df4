using Shop.Broker.Protocol;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>What the three ACL APIs share: who may use them, and filters as they arrive.</summary>
internal static class AclApis
{
    /// <summary>Why this request may not touch ACLs, or null when it may.</summary>
    public static (ErrorCode, string?)? Refusal(Authorizer authorizer, KafkaRequest context, AclOperation needed)
    {
        if (!authorizer.Enabled) return (ErrorCode.SecurityDisabled, "ACLs are off on this broker (Broker:AclsEnabled=false)");
        if (!authorizer.CanOnCluster(context.Session, needed))
            return (ErrorCode.ClusterAuthorizationFailed, $"{context.Session.Principal} may not {needed.ToString().ToUpperInvariant()} the cluster's ACLs");
        return null;
    }

    public static AclFilter Filter(sbyte resourceType, string? resourceName, sbyte patternType, string? principal, string? host, sbyte operation, sbyte permission) =>
        new((ResourceType)resourceType, resourceName, (PatternType)patternType, principal, host, (AclOperation)operation, (AclPermission)permission);
}
