using Shop.Broker.Network;
using Shop.Broker.Security;

namespace Shop.Broker.Console;

/// <summary>Listeners, users (names and mechanisms only) and ACLs: read-only.</summary>
internal static class SecurityEndpoints
{
    public static void MapSecurityEndpoints(this RouteGroupBuilder api) =>
        api.MapGet("/security", (HttpContext context, BrokerOptions options, CredentialStore credentials, Authorizer authorizer, ConsoleAccess access) =>
        {
            access.Demand(context, AclOperation.Describe, ResourceType.Cluster, AclBinding.ClusterName);
            return TypedResults.Ok(new
            {
                listeners = KafkaEndpoint.From(options).Select(e => e.ToString()),
                aclsEnabled = authorizer.Enabled,
                superUsers = authorizer.SuperUsers.Order(StringComparer.Ordinal),
                // Names and mechanisms only: nothing secret leaves the broker.
                users = credentials.Describe().OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => new
                {
                    principal = $"User:{u.Key}",
                    mechanisms = u.Value.Select(m => $"{m.Mechanism.Name} ({m.Iterations} iterations)"),
                }),
                acls = authorizer.Acls.All.Select(a => new
                {
                    acl = a.ToString(),
                    source = authorizer.Acls.Configured.Contains(a) ? "configuration" : "api",
                }),
            });
        });
}
