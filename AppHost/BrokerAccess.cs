using Aspire.Hosting.ApplicationModel;

namespace Shop.AppHost;

/// <summary>
/// What one service may do on the broker: write the topics it owns, read the topics it handles
/// (and dead-letter them into <c>&lt;topic&gt;.dlq</c>), and read as its consumer groups. It may also
/// create every topic it uses, with the shop's shared specification, so that start order does not
/// matter. Nothing else: no deleting, no other topics, no admin. docs/architecture.md keeps this table.
/// </summary>
public sealed record ServiceAccess(string Service, string[] Writes, string[] Reads, string[] Groups)
{
    /// <summary>The shop's real flow (who publishes and who consumes what, with which group ids).</summary>
    public static readonly IReadOnlyList<ServiceAccess> Shop =
    [
        new("webshop", Writes: ["orders"], Reads: ["orders", "reservations", "inventory", "notifications", "stock-levels"],
            Groups: ["webshop", "webshop-stock", "webshop-analytics"]),
        new("orders", Writes: ["orders", "reservations"], Reads: ["orders", "inventory"], Groups: ["orders"]),
        new("inventory", Writes: ["inventory", "stock-levels"], Reads: ["reservations"], Groups: ["inventory"]),
        new("notifications", Writes: ["notifications"], Reads: ["orders"], Groups: ["notifications"]),
    ];

    public string Principal => $"User:{Service}";

    /// <summary>The ACLs, in the broker's <c>Broker:Acls</c> words.</summary>
    public IEnumerable<string> Acls()
    {
        var written = Writes.Concat(Reads.Select(t => t + ".dlq")).Distinct().ToList();
        foreach (var topic in written) yield return $"ALLOW {Principal} WRITE TOPIC {topic}";
        foreach (var topic in Reads) yield return $"ALLOW {Principal} READ TOPIC {topic}";
        // The inbox keeps a topic's message ids as long as its retention.ms, which the service reads.
        foreach (var topic in Reads) yield return $"ALLOW {Principal} DESCRIBE_CONFIGS TOPIC {topic}";
        foreach (var topic in written.Union(Reads)) yield return $"ALLOW {Principal} CREATE TOPIC {topic}";
        foreach (var group in Groups) yield return $"ALLOW {Principal} READ GROUP {group}";
    }
}

public static class BrokerAccessExtensions
{
    public const string AdminUser = "admin";

    /// <summary>A password parameter: generated on the first run, kept in the AppHost's user secrets, shown as a secret in the dashboard.</summary>
    private static IResourceBuilder<ParameterResource> Password(IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);

    /// <summary>
    /// Turns security on: the Kafka port speaks SASL_PLAINTEXT (SCRAM), ACLs are on, <c>User:admin</c>
    /// is the only super user, and each service gets its own principal with <see cref="ServiceAccess.Acls"/>.
    /// </summary>
    public static IResourceBuilder<BrokerResource> WithShopSecurity(this IResourceBuilder<BrokerResource> broker)
    {
        var builder = broker.ApplicationBuilder;
        broker.WithEnvironment("Broker__SecurityProtocol", "SASL_PLAINTEXT")
            .WithEnvironment("Broker__AclsEnabled", "true")
            .WithEnvironment("Broker__SuperUsers", $"User:{AdminUser}")
            .WithEnvironment($"Broker__Users__{AdminUser}", Password(builder, PasswordParameter(AdminUser)));
        var acls = ServiceAccess.Shop.SelectMany(s => s.Acls()).ToList();
        for (var i = 0; i < acls.Count; i++) broker.WithEnvironment($"Broker__Acls__{i}", acls[i]);
        foreach (var access in ServiceAccess.Shop)
        {
            broker.WithEnvironment($"Broker__Users__{access.Service}", Password(builder, PasswordParameter(access.Service)));
        }
        return broker;
    }

    /// <summary>The parameter holding a principal's password: <c>broker-&lt;user&gt;-password</c>, the admin's included.</summary>
    public static string PasswordParameter(string user) => $"broker-{user}-password";

    /// <summary>Gives a service the broker's address and its own credentials.</summary>
    public static IResourceBuilder<ProjectResource> WithBrokerCredentials(this IResourceBuilder<ProjectResource> service, IResourceBuilder<BrokerResource> broker)
    {
        var name = service.Resource.Name;
        var password = service.ApplicationBuilder.Resources.OfType<ParameterResource>().Single(p => p.Name == PasswordParameter(name));
        return service.WithReference(broker).WaitFor(broker)
            .WithEnvironment("Messaging__SecurityProtocol", "SaslPlaintext")
            .WithEnvironment("Messaging__SaslMechanism", "ScramSha512")
            .WithEnvironment("Messaging__SaslUsername", name)
            .WithEnvironment("Messaging__SaslPassword", password);
    }
}
